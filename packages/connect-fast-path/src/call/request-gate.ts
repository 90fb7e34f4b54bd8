import { Code, ConnectError, type HandlerContext } from "@connectrpc/connect";
import type { CallInfo } from "../call-info.js";
import { type FastRequest, type FastResponse, peerOf } from "../wire/exchange.js";
import { type CallContext, createCallContext, type InflightCalls, type SingleRequestMethod } from "./context.js";
import type { CallLimits } from "./limits.js";
import { reportRefusal } from "./refusal.js";
import { type ParsedTimeout, parseRequestTimeout, type TimeoutHeader } from "./timeouts.js";

/** connect's `requestGate`: runs once the headers are in, before any request message is read. */
export type RequestGate = (context: HandlerContext) => void | Promise<void>;

/** A call stopped at the gate is one more early refusal; the protocol code answers it. */
export type GateRefusal = (error: ConnectError, context: CallContext) => void;

type GateProtocol = "grpc" | "grpc-web" | "connect";

/**
 * A call past the gate, before its body is read: its context, its parsed
 * timeout, and the watch for its client going away, which the call keeps
 * (runUnaryCall, ServerStreamCall) or drops (`stopWatching`) when refused.
 */
export class GatedCall {
  /** Ends the call when its client goes away: listening to the response's `close` from the gate on. */
  readonly onClose: () => void;

  constructor(
    readonly context: CallContext,
    readonly timeout: ParsedTimeout,
    private readonly res: FastResponse,
  ) {
    this.onClose = () => context.abort(new ConnectError("the client cancelled the call", Code.Canceled));
    res.once("close", this.onClose);
  }

  /** Drops the watch: for a call answered without running. */
  stopWatching(): void {
    this.res.removeListener("close", this.onClose);
  }
}

/** What the gate can know of a call before its body: the interceptors get the whole CallInfo later. */
class GateCallInfo implements CallInfo {
  private address: string | undefined;

  constructor(
    private readonly req: FastRequest,
    readonly protocol: string,
  ) {}

  get peer(): string {
    this.address ??= peerOf(this.req);
    return this.address;
  }
}

/** The call a gate looks at. */
export interface GateInput {
  req: FastRequest;
  res: FastResponse;
  method: SingleRequestMethod;
  protocolName: GateProtocol;
  timeoutHeader: TimeoutHeader;
}

/**
 * Makes a call's context before its body is read and runs the router's
 * `requestGate` on it, as connect-node does: a call the gate refuses is
 * answered without its message being read, and what the gate put in the
 * context (values for the interceptors, response headers) stays with a call
 * it lets through. A gate that throws something other than a ConnectError
 * fails the call with INTERNAL "internal error", as connect-node does. A
 * deadline, a cancel or the shutdown that comes while the gate runs ends
 * the call with its reason. A gate that answers at once costs no promise.
 */
export function passGate(
  gate: RequestGate,
  options: Pick<CallLimits, "callInfoKey" | "onRefused" | "maxTimeoutMs">,
  inflight: InflightCalls,
  call: GateInput,
  pass: (gated: GatedCall) => void,
  refuse: GateRefusal,
): void {
  const { req } = call;
  const timeout = parseRequestTimeout(call.timeoutHeader, req.headers[call.timeoutHeader], options.maxTimeoutMs);
  const context = createCallContext({
    method: call.method,
    protocolName: call.protocolName,
    requestMethod: req.method ?? "POST",
    url: req.url ?? "",
    timeoutMs: timeout.error ? undefined : timeout.timeoutMs,
    requestHeaders: req.headers,
    inflight,
  });
  if (options.callInfoKey) context.values.set(options.callInfoKey, new GateCallInfo(req, call.protocolName));
  // Also while the body is read after the gate: a call whose client is gone
  // must leave the calls in flight.
  const gated = new GatedCall(context, timeout, call.res);
  let result: void | Promise<void>;
  try {
    result = gate(context);
  } catch (e) {
    settle(gated, e ?? new Error("the request gate threw nothing"), options, call, pass, refuse);
    return;
  }
  if (result instanceof Promise) {
    result.then(
      () => settle(gated, undefined, options, call, pass, refuse),
      (e: unknown) =>
        settle(gated, e ?? new Error("the request gate rejected with nothing"), options, call, pass, refuse),
    );
  } else settle(gated, undefined, options, call, pass, refuse);
}

function settle(
  gated: GatedCall,
  thrown: unknown,
  options: Pick<CallLimits, "onRefused">,
  call: GateInput,
  pass: (gated: GatedCall) => void,
  refuse: GateRefusal,
): void {
  const { context } = gated;
  const error =
    thrown === undefined
      ? context.abortReason
      : thrown instanceof ConnectError
        ? thrown
        : new ConnectError("internal error", Code.Internal, undefined, undefined, thrown);
  if (error === undefined) {
    pass(gated);
    return;
  }
  gated.stopWatching();
  // In the head, but for gRPC, whose Trailers-Only answer is one frame.
  const metadata = call.protocolName === "grpc" ? context.responseTrailer : context.responseHeader;
  reportRefusal(options, call.req, call.protocolName, error, metadata);
  refuse(error, context);
  context.finish();
}
