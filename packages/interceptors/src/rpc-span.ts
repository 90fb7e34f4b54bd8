import {
  Code,
  ConnectError,
  type StreamRequest,
  type StreamResponse,
  type UnaryRequest,
  type UnaryResponse,
} from "@connectrpc/connect";
import { type Attributes, type Span, SpanStatusCode, type TextMapGetter, type TextMapSetter } from "@opentelemetry/api";

/** Span name and attributes of the OpenTelemetry RPC semantic conventions. */
export function rpcSpanStart(
  req: UnaryRequest | StreamRequest,
  system: string,
): { name: string; attributes: Attributes } {
  return {
    name: `${req.service.typeName}/${req.method.name}`,
    attributes: { "rpc.system": system, "rpc.service": req.service.typeName, "rpc.method": req.method.name },
  };
}

/** Ends a span with the call's outcome: the gRPC status code attribute, and ERROR status on failure. */
export function endRpcSpan(span: Span, error: unknown): void {
  const code = error === undefined ? 0 : ConnectError.from(error).code;
  span.setAttribute("rpc.grpc.status_code", code);
  if (code !== 0) {
    span.setStatus({ code: SpanStatusCode.ERROR, message: Code[code] });
    if (error instanceof Error) span.recordException(error);
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
  run: () => Promise<UnaryResponse | StreamResponse>,
): Promise<UnaryResponse | StreamResponse> {
  let res: UnaryResponse | StreamResponse;
  try {
    res = await run();
  } catch (e) {
    endRpcSpan(span, e);
    throw e;
  }
  if (!res.stream) {
    endRpcSpan(span, undefined);
    return res;
  }
  return { ...res, message: untilStreamEnds(res.message, (e) => endRpcSpan(span, e)) };
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
