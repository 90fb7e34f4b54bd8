import type { Interceptor } from "@connectrpc/connect";
import { context, propagation, SpanKind, type Tracer, trace } from "@opentelemetry/api";
import { headersSetter, rpcSpanStart, traced } from "../rpc-span.js";

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
    return traced(span, () => next(req));
  };
}
