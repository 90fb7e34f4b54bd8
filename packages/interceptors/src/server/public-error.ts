import { Code, ConnectError } from "@connectrpc/connect";

/**
 * What a client may see of a failure: a ConnectError as it is (the handler
 * chose its code and message), anything else as INTERNAL "internal error",
 * the original kept as `cause` for the server's log only.
 */
export function publicError(e: unknown): ConnectError {
  return e instanceof ConnectError ? e : new ConnectError("internal error", Code.Internal, undefined, undefined, e);
}
