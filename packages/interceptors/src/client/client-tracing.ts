import type { Interceptor, StreamResponse } from "@connectrpc/connect";
import { context, propagation, SpanKind, type Tracer, trace } from "@opentelemetry/api";
import { endRpcSpan, headersSetter, rpcSpanStart, untilStreamEnds } from "../rpc-span.js";

export interface ClientTracingOptions {
  /** @default the global tracer provider's "@greeter/interceptors" tracer */
  tracer?: Tracer;
  /** `rpc.system` of the spans. @default "grpc" */
  system?: string;
}

/**
 * A CLIENT span per RPC, child of whatever span is active, with its W3C
 * `traceparent` sent to the server so the server's span joins the trace.
 */
export function createClientTracingInterceptor(options: ClientTracingOptions = {}): Interceptor {
  const tracer = options.tracer ?? trace.getTracer("@greeter/interceptors");
  return (next) => async (req) => {
    const { name, attributes } = rpcSpanStart(req, options.system ?? "grpc");
    const span = tracer.startSpan(name, { kind: SpanKind.CLIENT, attributes });
    propagation.inject(trace.setSpan(context.active(), span), req.header, headersSetter);
    let res: Awaited<ReturnType<typeof next>>;
    try {
      res = await next(req);
    } catch (e) {
      endRpcSpan(span, e);
      throw e;
    }
    if (!res.stream) {
      endRpcSpan(span, undefined);
      return res;
    }
    const stream: StreamResponse = { ...res, message: untilStreamEnds(res.message, (e) => endRpcSpan(span, e)) };
    return stream;
  };
}
