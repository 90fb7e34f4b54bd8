import { Code, ConnectError } from "@connectrpc/connect";

// The errors publicError made from something that was not a ConnectError.
const wrapped = new WeakSet<ConnectError>();

/**
 * What a client may see of a failure: a ConnectError as it is (the handler
 * chose its code and message), anything else as INTERNAL "internal error",
 * the original kept as `cause` for the server's log only.
 */
export function publicError(e: unknown): ConnectError {
  if (e instanceof ConnectError) return e;
  const error = new ConnectError("internal error", Code.Internal, undefined, undefined, e);
  wrapped.add(error);
  return error;
}

/** Whether publicError made `error` from a thrown value that was not a ConnectError. */
export function wasWrapped(error: ConnectError): boolean {
  return wrapped.has(error);
}
