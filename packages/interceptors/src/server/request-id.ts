import { randomBytes } from "node:crypto";
import { ConnectError, createContextKey, type Interceptor } from "@connectrpc/connect";
import { callNext } from "../call-next.js";

/** The call's request id, for handlers and the interceptors after this one. */
export const requestIdKey = createContextKey<string>("", { description: "request id" });

export interface RequestIdOptions {
  /**
   * The header that carries the id in and out.
   * @default "x-request-id"
   */
  header?: string;
  /** Makes an id for calls that come without a usable one. @default sequentialIds() */
  generate?: () => string;
}

// An id from outside ends up in log lines: take it only if it cannot forge one.
const USABLE_ID = /^[\w.:@/+=-]{1,128}$/;

/**
 * Gives every call a request id — the caller's `x-request-id` if it sent a
 * sensible one, a new UUID otherwise — and echoes it in the response
 * headers (error responses too), so a client can quote it in a bug report.
 */
export function createRequestIdInterceptor(options: RequestIdOptions = {}): Interceptor {
  const header = options.header ?? "x-request-id";
  const generate = options.generate ?? sequentialIds();
  return (next) => (req) => {
    const incoming = req.header.get(header);
    const id = incoming !== null && USABLE_ID.test(incoming) ? incoming : generate();
    req.contextValues.set(requestIdKey, id);
    return callNext(next, req).then(
      (res) => {
        res.header.set(header, id);
        return res;
      },
      (e: unknown) => {
        if (e instanceof ConnectError) e.metadata.set(header, id);
        throw e;
      },
    );
  };
}

/**
 * Ids made of a random per-process prefix (48 bits) and a counter:
 * `3f9a0c41d2e7-1a`. Unique across a fleet of replicas in practice, and
 * cheaper than a UUID per call — on the wire too, where the id is sent back
 * on every response.
 */
export function sequentialIds(): () => string {
  const prefix = `${randomBytes(6).toString("hex")}-`;
  let counter = 0;
  return () => prefix + (++counter).toString(36);
}
