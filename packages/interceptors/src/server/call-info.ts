import { type ConnectError, createContextKey, type StreamRequest, type UnaryRequest } from "@connectrpc/connect";

/**
 * What a server adapter knows about a call that a Connect interceptor does
 * not see: who is calling, over which protocol, and the bytes on the wire.
 * The Greeter server fills it in for every call (the fast path and
 * connect-node alike); without it, interceptors fall back to what the
 * request itself says.
 */
export interface CallInfo {
  /** `grpc`, `grpc-web` or `connect`. */
  protocol?: string;
  /** The client's address, e.g. `127.0.0.1:53110`. */
  peer?: string;
  /** Request body bytes on the wire, when the adapter counted them. */
  bytesIn?: number;
  /**
   * Response body bytes on the wire, when the adapter counts them: for a
   * unary call, set before the interceptors return; for a stream, present
   * from the start and kept up to date as each message is written.
   */
  bytesOut?: number;
  /**
   * What the adapter knows of a call ended from outside its handler (the
   * client's cancel or disconnect, the deadline, the shutdown), sooner than
   * the request's signal says it: Node ends a request body on a
   * RST_STREAM before the stream closes and connect-node aborts the signal.
   */
  abortReason?(): ConnectError | undefined;
  /**
   * `abortReason` knows every reason the signal would give, so interceptors
   * need not read the signal (the fast path makes it only if asked).
   */
  abortReasonComplete?: boolean;
}

export const callInfoKey = createContextKey<CallInfo | undefined>(undefined, { description: "greeter call info" });

/** The protocol of a call: from the adapter, or else from the request's content type. */
export function protocolOf(req: UnaryRequest | StreamRequest): string {
  const known = req.contextValues.get(callInfoKey)?.protocol;
  if (known) return known;
  const contentType = req.header.get("content-type") ?? "";
  if (contentType.startsWith("application/grpc-web")) return "grpc-web";
  if (contentType.startsWith("application/grpc")) return "grpc";
  return "connect";
}
