import { Code, ConnectError, type ContextValues, type HandlerContext } from "@connectrpc/connect";
import type { CallInfo } from "../call-info.js";
import { type FastRequest, peerOf } from "../wire/exchange.js";
import { LeanHeaders } from "../wire/lean-headers.js";
import { type CallContext, createCallContext, type InflightCalls, type SingleRequestMethod } from "./context.js";
import type { CallLimits, RequestGate } from "./limits.js";
import { reportRefusal } from "./refusal.js";
import { type ParsedTimeout, parseRequestTimeout, type TimeoutHeader } from "./timeouts.js";

export type { RequestGate } from "./limits.js";

/** A call the gate let through, before its body is read: its context (started once the body is in) and its deadline. */
export interface GatedCall {
  context: CallContext;
  timeout: ParsedTimeout;
}

/** What the gate decided: nothing to go on, or the error to refuse the call with. */
export type GateVerdict = ConnectError | undefined;

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

/**
 * What the router's `requestGate` sees of a call, before its body is read:
 * a HandlerContext whose costly parts (the call's context proper: its
 * values, response headers, signal) are made only when the gate touches
 * them. Most calls pass a gate that reads a header and returns (a public
 * method, no token): they leave no context behind, and the call makes its
 * own after its body is read, as without a gate. A call whose gate did
 * touch them carries that context (`gated()`) into the call, with what the
 * gate set: it is made with `deferStart`, joining the calls in flight and
 * arming its deadline only once the body is in, so that a call whose client
 * leaves meanwhile leaves nothing behind.
 */
export class GateContext implements HandlerContext {
  readonly service: SingleRequestMethod["parent"];
  readonly requestMethod: string;
  readonly url: string;
  readonly timeout: ParsedTimeout;
  private made: CallContext | undefined;
  private header: LeanHeaders | undefined;
  private readonly deadline: number | undefined;

  constructor(
    private readonly options: Pick<CallLimits, "callInfoKey" | "maxTimeoutMs">,
    private readonly inflight: InflightCalls,
    private readonly req: FastRequest,
    readonly method: SingleRequestMethod,
    readonly protocolName: string,
    timeoutHeader: TimeoutHeader,
  ) {
    this.service = method.parent;
    this.requestMethod = req.method ?? "POST";
    this.url = req.url ?? "";
    this.timeout = parseRequestTimeout(timeoutHeader, req.headers[timeoutHeader], options.maxTimeoutMs);
    const ms = this.timeout.error ? undefined : this.timeout.timeoutMs;
    this.deadline = ms === undefined ? undefined : Math.trunc(Date.now() + ms);
  }

  get requestHeader(): Headers {
    // Once the context is made, it holds the one object (this view's, if it had made one first).
    if (this.made) return this.made.requestHeader;
    this.header ??= new LeanHeaders(this.req.headers);
    return this.header;
  }

  timeoutMs(): number | undefined {
    return this.deadline === undefined ? undefined : this.deadline - Date.now();
  }

  get signal(): AbortSignal {
    return this.context().signal;
  }

  get values(): ContextValues {
    return this.context().values;
  }

  get responseHeader(): Headers {
    return this.context().responseHeader;
  }

  get responseTrailer(): Headers {
    return this.context().responseTrailer;
  }

  /** The call's context, made now if the gate has not needed it yet (to answer its refusal, say). */
  context(): CallContext {
    if (!this.made) {
      const { req, options } = this;
      this.made = createCallContext({
        method: this.method,
        protocolName: this.protocolName,
        requestMethod: this.requestMethod,
        url: this.url,
        timeoutMs: this.timeoutMs(),
        requestHeaders: req.headers,
        inflight: this.inflight,
        deferStart: true,
        // The same object the gate reads and may change, as connect-node's gate, interceptors and handler share one.
        requestHeader: this.header,
      });
      if (options.callInfoKey) this.made.values.set(options.callInfoKey, new GateCallInfo(req, this.protocolName));
    }
    return this.made;
  }

  /** The call as the gate let it through: its context, if the gate touched one, and its deadline; else nothing to carry. */
  gated(): GatedCall | undefined {
    // Request headers the gate changed must reach the interceptors and the handler.
    if (this.header?.written) this.context();
    return this.made && { context: this.made, timeout: this.timeout };
  }
}

/**
 * Runs the gate on a call's context, as connect-node does: a call it
 * refuses is answered without its message being read. Its verdict comes
 * at once when the gate answers at once (no promise, nothing allocated),
 * else as a promise. Anything it throws that is not a ConnectError refuses
 * the call with INTERNAL "internal error", as connect-node does.
 */
export function askGate(gate: RequestGate, context: HandlerContext): GateVerdict | Promise<GateVerdict> {
  let result: void | Promise<void>;
  try {
    result = gate(context);
  } catch (e) {
    return refusal(e);
  }
  // Any thenable, as connect-node awaits whatever the gate returns.
  return isThenable(result) ? Promise.resolve(result).then(() => undefined, refusal) : undefined;
}

function refusal(thrown: unknown): ConnectError {
  return thrown instanceof ConnectError
    ? thrown
    : new ConnectError("internal error", Code.Internal, undefined, undefined, thrown);
}

/**
 * Reports a call the gate refused as an early refusal (the interceptors
 * never see it), with what the report adds in the head, but for gRPC,
 * whose Trailers-Only answer is one frame. The caller answers it.
 */
export function reportGateRefusal(
  options: Pick<CallLimits, "onRefused">,
  req: FastRequest,
  protocolName: "grpc" | "grpc-web" | "connect",
  error: ConnectError,
  context: CallContext,
): void {
  reportRefusal(
    options,
    req,
    protocolName,
    error,
    protocolName === "grpc" ? context.responseTrailer : context.responseHeader,
  );
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof value === "object" && value !== null && typeof (value as { then?: unknown }).then === "function";
}

/**
 * The gate for the router whose handlers the gRPC-Web text mode runs
 * (connect-node's, translated around): a call it refuses is reported as
 * the fast path reports its own refusals (`onRefused`), with what the
 * report adds (a request id) in the answer's head. Without `onRefused`,
 * the gate as it is.
 */
export function reportingGate(gate: RequestGate, options: Pick<CallLimits, "onRefused" | "callInfoKey">): RequestGate {
  const { onRefused, callInfoKey } = options;
  if (!onRefused) return gate;
  const report = (context: HandlerContext, thrown: unknown): never => {
    const requestHeaders: Record<string, string> = {};
    context.requestHeader.forEach((value, name) => {
      requestHeaders[name] = value;
    });
    const extra = onRefused({
      procedure: `/${context.service.typeName}/${context.method.name}`,
      protocol: "grpc-web",
      error: refusal(thrown),
      peer: (callInfoKey && context.values.get(callInfoKey)?.peer) ?? "unknown",
      requestHeaders,
    });
    if (extra) for (const [name, value] of Object.entries(extra)) context.responseHeader.set(name, value);
    throw thrown;
  };
  return (context) => {
    let result: void | Promise<void>;
    try {
      result = gate(context);
    } catch (e) {
      return report(context, e);
    }
    return isThenable(result) ? Promise.resolve(result).catch((e: unknown) => report(context, e)) : result;
  };
}
