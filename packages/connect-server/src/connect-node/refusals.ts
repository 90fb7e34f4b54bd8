import { randomUUID } from "node:crypto";
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from "node:http";
import type { Http2ServerRequest, Http2ServerResponse } from "node:http2";
import { createContextKey, type Interceptor } from "@connectrpc/connect";

/**
 * connect-node refuses some calls before its interceptors run (a broken
 * envelope, a message over the limit, a bad timeout), and tells no one.
 * The fast path reports those itself (`onRefused`); for connect-node's path
 * the server watches the answer: a call whose interceptors never started
 * was refused, and its status is in what connect-node writes.
 */

/** Set by the first interceptor connect-node runs: the call got past connect-node's own checks. */
export interface ChainEntered {
  entered: boolean;
  /** The error the request gate refused the call with: its cause is for the log, which the answer cannot carry. */
  gateError?: unknown;
}

export const chainEnteredKey = createContextKey<ChainEntered | undefined>(undefined, {
  description: "greeter: the interceptors started",
});

/** The id a refused call's answer carries: the caller's `x-request-id`, if it is usable, else a new one. */
export function requestIdFor(incoming: string | string[] | undefined): string {
  return typeof incoming === "string" && /^[\w.:-]{1,128}$/.test(incoming) ? incoming : randomUUID();
}

/** The interceptor to put first in connect-node's list: it marks the call's ChainEntered. */
export const markChainEntered: Interceptor = (next) => (req) => {
  const mark = req.contextValues.get(chainEnteredKey);
  if (mark) mark.entered = true;
  return next(req);
};

/** A refused call as the watcher saw it. */
export interface WatchedRefusal {
  requestId: string;
  /** Connect's name of the code, e.g. `invalid_argument`, or `unknown` if the answer did not say. */
  code: string;
  message: string;
}

/**
 * Watches one call handed to connect-node: if its answer's head goes out
 * before any interceptor started, the head gets a request id, and once
 * the answer is sent `refused` learns its status.
 */
export function watchConnectNodeCall(
  req: IncomingMessage | Http2ServerRequest,
  res: ServerResponse | Http2ServerResponse,
  mark: ChainEntered,
  refused: (refusal: WatchedRefusal) => void,
): void {
  const incoming = req.headers["x-request-id"];
  let requestId: string | undefined;
  let trailers: OutgoingHttpHeaders | undefined;
  let last: unknown;
  const response = res as ServerResponse;
  const writeHead = response.writeHead.bind(response) as (status: number, ...rest: unknown[]) => ServerResponse;
  const addTrailers = response.addTrailers.bind(response);
  const write = response.write.bind(response) as (chunk: unknown, ...rest: unknown[]) => boolean;
  const end = response.end.bind(response) as (...args: unknown[]) => ServerResponse;
  override(response, "writeHead", (status: number, ...rest: unknown[]) => {
    if (!mark.entered) {
      requestId = requestIdFor(incoming);
      response.setHeader("x-request-id", requestId);
    }
    return writeHead(status, ...rest);
  });
  override(response, "addTrailers", (headers: OutgoingHttpHeaders) => {
    trailers = headers;
    addTrailers(headers);
  });
  override(response, "write", (chunk: unknown, ...rest: unknown[]) => {
    last = chunk;
    return write(chunk, ...rest);
  });
  override(response, "end", (...args: unknown[]) => {
    if (args[0] !== undefined && typeof args[0] !== "function") last = args[0];
    return end(...args);
  });
  res.once("finish", () => {
    if (requestId === undefined) return;
    refused({ requestId, ...statusOf(response, trailers, last) });
  });
}

function override(target: object, name: string, value: unknown): void {
  Object.defineProperty(target, name, { configurable: true, writable: true, value });
}

const GRPC_CODES = [
  "ok",
  "canceled",
  "unknown",
  "invalid_argument",
  "deadline_exceeded",
  "not_found",
  "already_exists",
  "permission_denied",
  "resource_exhausted",
  "failed_precondition",
  "aborted",
  "out_of_range",
  "unimplemented",
  "internal",
  "unavailable",
  "data_loss",
  "unauthenticated",
];

/**
 * The status of an answer connect-node wrote: gRPC's in the trailers (or
 * the head), gRPC-Web's in the trailer frame that ends the body, Connect's
 * in the JSON error (the body of a unary answer, the end-of-stream frame of
 * a stream).
 */
function statusOf(
  res: ServerResponse,
  trailers: OutgoingHttpHeaders | undefined,
  last: unknown,
): { code: string; message: string } {
  const grpcStatus = trailers?.["grpc-status"] ?? res.getHeader("grpc-status");
  const grpcMessage = trailers?.["grpc-message"] ?? res.getHeader("grpc-message");
  if (grpcStatus !== undefined) {
    return { code: GRPC_CODES[Number(grpcStatus)] ?? "unknown", message: decode(String(grpcMessage ?? "")) };
  }
  const text = typeof last === "string" ? last : last instanceof Uint8Array ? Buffer.from(last).toString("latin1") : "";
  const web = /grpc-status:\s*(\d+)/.exec(text);
  if (web) {
    return {
      code: GRPC_CODES[Number(web[1])] ?? "unknown",
      message: decode(/grpc-message:\s*([^\r\n]*)/.exec(text)?.[1] ?? ""),
    };
  }
  const connect = /"code":"([a-z_]+)"/.exec(text);
  return {
    code: connect?.[1] ?? "unknown",
    message: /"message":"((?:[^"\\]|\\.)*)"/.exec(text)?.[1] ?? "",
  };
}

function decode(message: string): string {
  try {
    return decodeURIComponent(message);
  } catch {
    return message;
  }
}
