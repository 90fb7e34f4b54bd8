import type { IncomingHttpHeaders } from "node:http";
import type { ConnectError } from "@connectrpc/connect";
import { parseConnectTimeout, parseGrpcTimeout } from "../connect-internals.js";

/**
 * The longest deadline a call gets: setTimeout's longest delay (about 24.8
 * days). Past it Node fires a timer after 1 ms instead, with a
 * TimeoutOverflowWarning.
 */
export const MAX_TIMEOUT_MS = 2 ** 31 - 1;

/**
 * The largest timeout connect-node accepts when the router sets no
 * `maxTimeoutMs` (its default, `Number.MAX_SAFE_INTEGER`): every legal
 * header, up to gRPC's `99999999H` and Connect's ten digits, is under it.
 */
export const CONNECT_NODE_MAX_TIMEOUT_MS = Number.MAX_SAFE_INTEGER;

/** A request's deadline: its length, or why the header is refused (INVALID_ARGUMENT). */
export interface ParsedTimeout {
  timeoutMs?: number;
  error?: ConnectError;
}

/** The header carrying a call's timeout, by protocol. */
export type TimeoutHeader = "grpc-timeout" | "connect-timeout-ms";

/**
 * The timeout a request asks for, parsed by connect's own parser (so that
 * a malformed header gets connect-node's INVALID_ARGUMENT), and a legal one
 * longer than setTimeout can wait clamped to {@link MAX_TIMEOUT_MS}, as
 * grpc-go clamps what its timers cannot hold. gRPC allows `99999999H`
 * (11,000 years); refusing it, or arming a timer that fires at once, would
 * fail a call whose client meant "no hurry".
 */
export function parseRequestTimeout(
  header: TimeoutHeader,
  raw: string | string[] | undefined,
  maxTimeoutMs = CONNECT_NODE_MAX_TIMEOUT_MS,
): ParsedTimeout {
  const value = typeof raw === "string" ? raw : null;
  const parsed =
    header === "grpc-timeout" ? parseGrpcTimeout(value, maxTimeoutMs) : parseConnectTimeout(value, maxTimeoutMs);
  if (parsed.timeoutMs !== undefined && parsed.timeoutMs > MAX_TIMEOUT_MS) parsed.timeoutMs = MAX_TIMEOUT_MS;
  return parsed;
}

/**
 * A call's deadline: what the request gate read already, if the call went
 * through one, else its protocol's header parsed now. Every protocol reads
 * its deadline here, one way.
 */
export function requestTimeout(
  headers: IncomingHttpHeaders,
  header: TimeoutHeader,
  maxTimeoutMs: number,
  gated?: { readonly timeout: ParsedTimeout },
): ParsedTimeout {
  return gated?.timeout ?? parseRequestTimeout(header, headers[header], maxTimeoutMs);
}

/**
 * The longest gRPC timeout at or under {@link MAX_TIMEOUT_MS} that the
 * header's eight digits can say: 2,147,483 seconds, 0.6 s short of it
 * (milliseconds would need ten digits).
 */
const CLAMPED_GRPC_TIMEOUT = `${Math.floor(MAX_TIMEOUT_MS / 1000)}S`;

/**
 * Rewrites, in place, a request's legal timeout header that asks for more
 * than {@link MAX_TIMEOUT_MS} to that maximum, for a request handed to
 * connect-node: it accepts such a timeout and arms a timer Node fires after
 * 1 ms, so a call that takes longer than that fails DEADLINE_EXCEEDED. Call
 * it before connect-node reads the headers. A malformed header is left for
 * connect-node to refuse, and so is every long one when the router's
 * `maxTimeoutMs` is under the clamp: connect-node refuses it, naming the
 * timeout as sent.
 */
export function clampLongTimeouts(headers: IncomingHttpHeaders, maxTimeoutMs = CONNECT_NODE_MAX_TIMEOUT_MS): void {
  if (maxTimeoutMs < MAX_TIMEOUT_MS) return;
  const grpc = headers["grpc-timeout"];
  if (typeof grpc === "string" && exceeds(parseGrpcTimeout(grpc, CONNECT_NODE_MAX_TIMEOUT_MS))) {
    headers["grpc-timeout"] = CLAMPED_GRPC_TIMEOUT;
  }
  const connect = headers["connect-timeout-ms"];
  if (typeof connect === "string" && exceeds(parseConnectTimeout(connect, CONNECT_NODE_MAX_TIMEOUT_MS))) {
    headers["connect-timeout-ms"] = String(MAX_TIMEOUT_MS);
  }
}

const exceeds = (parsed: ParsedTimeout): boolean =>
  parsed.error === undefined && parsed.timeoutMs !== undefined && parsed.timeoutMs > MAX_TIMEOUT_MS;
