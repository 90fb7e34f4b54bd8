import { Code, ConnectError, type StreamRequest, type UnaryRequest } from "@connectrpc/connect";
import { type CallInfo, callInfoKey } from "./call-info.js";
import { wasWrapped } from "./public-error.js";

// What Node throws at a handler reading the request of a call whose client
// went away (a cut connection, a RST_STREAM): the client's doing, not a
// fault. Not every ECONNRESET: a handler's own outgoing call may fail so.
const CLIENT_GONE = new Set(["ERR_STREAM_PREMATURE_CLOSE", "ERR_HTTP2_STREAM_CANCEL"]);

/**
 * Why the call was ended from outside its handler, if it was: the client's
 * cancel or disconnect (CANCELED), its deadline (DEADLINE_EXCEEDED), the
 * server's shutdown (UNAVAILABLE). The adapter's CallInfo says so first
 * (the fast path knows it all: its signal costs an allocation to make);
 * then the request's signal.
 */
export function abortReasonOf(
  req: UnaryRequest | StreamRequest,
  info: CallInfo | undefined = req.contextValues.get(callInfoKey),
): ConnectError | undefined {
  const known = info?.abortReason?.();
  if (known || info?.abortReasonComplete) return known;
  const { signal } = req;
  // Connect aborts with a ConnectError when a call is ended from outside;
  // a reason of another kind is its own bookkeeping after a call is over.
  return signal?.aborted && signal.reason instanceof ConnectError ? signal.reason : undefined;
}

/**
 * How a call ended, as metrics and logs record it, given what the handler
 * and the interceptors within made of it (`error`, undefined for OK).
 * `info`: the call's CallInfo, if the caller has it at hand already.
 *
 * A call ended from outside is recorded with that reason, not with what
 * the handler made of it afterwards: a cut upload's handler fails reading
 * (Node's "Premature close", INTERNAL) or, after a RST_STREAM, finishes
 * with the chunks it got (OK), though the client never sees an answer. A
 * code the handler chose itself stands. connect-node says ABORTED for a
 * client that hung up; it is recorded as CANCELED, the client's code.
 */
export function callOutcome(
  req: UnaryRequest | StreamRequest,
  error: ConnectError | undefined,
  info?: CallInfo,
): ConnectError | undefined {
  if (error && !wasWrapped(error) && !INCIDENTAL.has(error.code)) return error;
  const reason = abortReasonOf(req, info ?? req.contextValues.get(callInfoKey));
  if (reason) return reason.code === Code.Aborted ? clientWentAway() : reason;
  return error && clientGone(error.cause) ? clientWentAway() : error;
}

// Codes a handler ends with because its call was ended from outside.
const INCIDENTAL = new Set([Code.Canceled, Code.Aborted, Code.DeadlineExceeded]);

const clientWentAway = (): ConnectError => new ConnectError("the client went away", Code.Canceled);

/** Whether `e`, or an error it wraps, is Node's sign of a client that went away. */
function clientGone(e: unknown): boolean {
  for (let cause = e, depth = 0; cause instanceof Error && depth < 5; cause = cause.cause, depth++) {
    const { code } = cause as NodeJS.ErrnoException;
    if (code !== undefined && CLIENT_GONE.has(code)) return true;
    // Node's HTTP/1.1 request whose client hung up.
    if (code === "ECONNRESET" && cause.message === "aborted") return true;
  }
  return false;
}
