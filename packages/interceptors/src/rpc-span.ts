import {
  Code,
  ConnectError,
  type StreamRequest,
  type StreamResponse,
  type UnaryRequest,
  type UnaryResponse,
} from "@connectrpc/connect";
import { type Attributes, type Span, SpanStatusCode, type TextMapGetter, type TextMapSetter } from "@opentelemetry/api";
import {
  fullMethodName,
  isRpcError,
  type RpcServerAddress,
  type RpcSide,
  type RpcSystem,
  rpcEndAttributes,
  rpcStartAttributes,
} from "./rpc-conventions.js";
import { emitsOld, type RpcSemconv } from "./semconv-mode.js";

/** How a side of the call describes its spans: the system, the conventions, which side. */
export interface RpcSpanConventions {
  system: RpcSystem;
  semconv: RpcSemconv;
  side: RpcSide;
}

/** Span name and start attributes of the OpenTelemetry RPC conventions; the name is `service/method` in both. */
export function rpcSpanStart(
  req: UnaryRequest | StreamRequest,
  conventions: RpcSpanConventions,
  server?: RpcServerAddress,
): { name: string; attributes: Attributes } {
  return {
    name: fullMethodName(req),
    attributes: rpcStartAttributes(req, conventions.system, conventions.semconv, server),
  };
}

/**
 * Ends a span with the call's outcome: its status code, and ERROR status
 * if it failed. The old way (as Greeter always did it): every code but OK
 * is an error, described by its name, with the exception as a span event.
 * The stable way: a server's span fails only for the codes that are its
 * own fault (see isRpcError), with `error.type` and the error's message as
 * the description; exceptions belong in logs, which the server writes.
 */
export function endRpcSpan(span: Span, error: unknown, conventions: RpcSpanConventions): void {
  const { system, semconv, side } = conventions;
  const connectError = error === undefined ? undefined : ConnectError.from(error);
  const code = connectError?.code ?? 0;
  span.setAttributes(rpcEndAttributes(system, semconv, side, code));
  const failed = semconv === "old" ? code !== 0 : isRpcError(side, code);
  if (connectError && failed) {
    span.setStatus({ code: SpanStatusCode.ERROR, message: semconv === "old" ? Code[code] : connectError.rawMessage });
    if (emitsOld(semconv) && error instanceof Error) span.recordException(error);
  }
  span.end();
}

/** Reads and writes W3C `traceparent`/`tracestate` on a call's Headers. */
export const headersGetter: TextMapGetter<Headers> = {
  keys: (carrier) => [...carrier.keys()],
  get: (carrier, key) => carrier.get(key) ?? undefined,
};
export const headersSetter: TextMapSetter<Headers> = {
  set: (carrier, key, value) => carrier.set(key, value),
};

/** Runs a call and ends `span` when the call is over: at once for unary answers, when the stream ends for streams. */
export async function traced(
  span: Span,
  conventions: RpcSpanConventions,
  run: () => Promise<UnaryResponse | StreamResponse>,
): Promise<UnaryResponse | StreamResponse> {
  let res: UnaryResponse | StreamResponse;
  try {
    res = await run();
  } catch (e) {
    endRpcSpan(span, e, conventions);
    throw e;
  }
  if (!res.stream) {
    endRpcSpan(span, undefined, conventions);
    return res;
  }
  return { ...res, message: untilStreamEnds(res.message, (e) => endRpcSpan(span, e, conventions)) };
}

/** Passes a stream on and calls `onEnd` once it ends, with its error if it failed. */
async function* untilStreamEnds<T>(messages: AsyncIterable<T>, onEnd: (error: unknown) => void): AsyncIterable<T> {
  try {
    yield* messages;
    onEnd(undefined);
  } catch (e) {
    onEnd(e);
    throw e;
  }
}
