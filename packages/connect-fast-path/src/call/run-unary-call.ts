import type { Message } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { type FastRequest, type FastResponse, peerOf } from "../wire/exchange.js";
import { type CallContext, createCallContext, type InflightCalls } from "./context.js";
import type { PreparedRoute } from "./routes.js";

/** One call, ready to run: what the protocol code parsed from the request. */
export interface UnaryCall {
  req: FastRequest;
  res: FastResponse;
  route: PreparedRoute;
  protocolName: string;
  request: unknown;
  /** Request body bytes read. */
  bytesIn: number;
  /** Serializes the answer as the protocol sends it. */
  encode: (message: Message) => Uint8Array;
  timeoutMs: number | undefined;
  inflight: InflightCalls;
  /** The context the request gate ran with, if there is a gate: started here. */
  context?: CallContext;
}

/**
 * Runs a call: makes its context, calls the interceptors and the
 * implementation, and hands the encoded answer to `answer` — or any failure
 * to `fail`. It fails with the call's
 * abort reason (deadline, client gone, shutdown) if that comes first, without
 * running the implementation if the call began after the shutdown, and,
 * as connect-node does, turns anything but a ConnectError into INTERNAL
 * "internal error" so that a bug's message stays in the server.
 */
export function runUnaryCall(
  call: UnaryCall,
  answer: (body: Uint8Array, context: CallContext) => void,
  fail: (error: ConnectError, context: CallContext) => void,
): void {
  const { req, res, route } = call;
  const gated = call.context;
  gated?.start();
  const context =
    gated ??
    createCallContext({
      method: route.method,
      protocolName: call.protocolName,
      requestMethod: "POST",
      url: req.url ?? "",
      timeoutMs: call.timeoutMs,
      requestHeaders: req.headers,
      inflight: call.inflight,
    });
  const onClose = watchClient(res, context);
  const failed = (e: unknown): void => {
    try {
      fail(
        e instanceof ConnectError ? e : new ConnectError("internal error", Code.Internal, undefined, undefined, e),
        context,
      );
    } finally {
      res.removeListener("close", onClose);
      context.finish();
    }
  };
  const answered = (body: Uint8Array): void => {
    try {
      answer(body, context);
    } catch (e) {
      failed(e);
      return;
    }
    res.removeListener("close", onClose);
    context.finish();
  };
  // Begun after the shutdown: answered with its reason, and the
  // implementation is not run, so that a retry cannot repeat its effects.
  if (context.abortReason) {
    failed(context.abortReason);
    return;
  }
  let invoked: Uint8Array | Promise<Uint8Array>;
  try {
    invoked = route.invoke({
      context,
      request: call.request,
      encode: call.encode,
      bytesIn: call.bytesIn,
      peer: () => peerOf(req),
    });
  } catch (e) {
    invoked = Promise.reject(e);
  }
  // Answered at once, in this tick: only the implementation itself could
  // have aborted the call meanwhile (by starting a shutdown, say).
  if (invoked instanceof Uint8Array) {
    if (context.abortReason) failed(context.abortReason);
    else answered(invoked);
    return;
  }
  // Promise callbacks, not an async function: see createUnaryInvoker.
  untilAborted(invoked, context).then(answered, failed);
}

/** Cancels the call when its client goes away before the answer; returns the listener, to be removed once answered. */
function watchClient(res: FastResponse, context: CallContext): () => void {
  const onClose = (): void => context.abort(new ConnectError("the client cancelled the call", Code.Canceled));
  res.once("close", onClose);
  return onClose;
}

/** The call's result, or its abort reason (deadline, client gone, shutdown) if that comes first. */
function untilAborted<T>(promise: Promise<T>, context: CallContext): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    context.onAbort(reject);
    promise.then(resolve, reject);
  });
}
