import { Code, ConnectError, type HandlerContext } from "@connectrpc/connect";
import { type FastRequest, type FastResponse, peerOf } from "../wire/exchange.js";
import { type CallContext, createCallContext, type InflightCalls, type SingleRequestMethod } from "./context.js";
import type { CallLimits } from "./limits.js";
import { reportRefusal } from "./refusal.js";
import { type ParsedTimeout, requestTimeout, type TimeoutHeader } from "./timeouts.js";

/** connect's `requestGate`: runs once the headers are in, before any request message is read. */
export type RequestGate = (context: HandlerContext) => void | Promise<void>;

/** A call stopped at the gate is one more early refusal; the protocol code answers it. */
export type GateRefusal = (error: ConnectError, context: CallContext) => void;

/** What a gated call has made before its body is read. */
export interface GatedCall {
  context: CallContext;
  timeout: ParsedTimeout;
  /** Stops the gate's watch for the client going away: call it once the call's own watch starts. */
  stopWatching(): void;
}

/**
 * Makes a call's context before its body is read and runs the router's
 * `requestGate` on it, as connect-node does: a call the gate refuses is
 * answered without a byte of its body read, and what the gate put in the
 * context (values for the interceptors, response headers) stays with a call
 * it lets through. A gate that throws something other than a ConnectError
 * fails the call with INTERNAL "internal error", as connect-node does. A
 * deadline, a cancel or the shutdown that comes while the gate runs ends
 * the call with its reason.
 */
export function passGate(
  gate: RequestGate,
  options: Pick<CallLimits, "callInfoKey" | "onRefused" | "maxTimeoutMs">,
  inflight: InflightCalls,
  call: {
    req: FastRequest;
    res: FastResponse;
    method: SingleRequestMethod;
    protocolName: "grpc" | "grpc-web" | "connect";
    timeoutHeader: TimeoutHeader;
  },
  pass: (gated: GatedCall) => void,
  refuse: GateRefusal,
): void {
  const { req, res, protocolName } = call;
  const timeout = requestTimeout(req.headers, call.timeoutHeader, options.maxTimeoutMs);
  const context = createCallContext({
    method: call.method,
    protocolName,
    requestMethod: req.method ?? "POST",
    url: req.url ?? "",
    timeoutMs: timeout.error ? undefined : timeout.timeoutMs,
    requestHeaders: req.headers,
    inflight,
  });
  if (options.callInfoKey) {
    // What is known before the body: the interceptors get the whole CallInfo later.
    const peer = peerOf(req);
    context.values.set(options.callInfoKey, { protocol: protocolName, peer });
  }
  // Also while the body is read after the gate: a call whose client is gone
  // must leave the calls in flight.
  const onClose = (): void => context.abort(new ConnectError("the client cancelled the call", Code.Canceled));
  res.once("close", onClose);
  const stopWatching = (): void => {
    res.removeListener("close", onClose);
  };
  const settle = (thrown: unknown): void => {
    const error =
      thrown === undefined
        ? context.abortReason
        : thrown instanceof ConnectError
          ? thrown
          : new ConnectError("internal error", Code.Internal, undefined, undefined, thrown);
    if (error === undefined) {
      pass({ context, timeout, stopWatching });
      return;
    }
    stopWatching();
    // In the head, but for gRPC, whose Trailers-Only answer is one frame.
    reportRefusal(
      options,
      req,
      protocolName,
      error,
      protocolName === "grpc" ? context.responseTrailer : context.responseHeader,
    );
    refuse(error, context);
    context.finish();
  };
  let gated: void | Promise<void>;
  try {
    gated = gate(context);
  } catch (e) {
    settle(e ?? new Error("the request gate threw nothing"));
    return;
  }
  if (gated instanceof Promise) {
    gated.then(
      () => settle(undefined),
      (e: unknown) => settle(e ?? new Error("the request gate rejected with nothing")),
    );
  } else settle(undefined);
}
