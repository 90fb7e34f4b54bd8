import type { Interceptor } from "@connectrpc/connect";
import { context, propagation, SpanKind, type Tracer, trace } from "@opentelemetry/api";
import { headersGetter, rpcSpanStart, traced } from "../rpc-span.js";
import { protocolOf } from "./call-info.js";

export interface RpcTracingOptions {
  /** @default the global tracer provider's "@greeter/interceptors" tracer */
  tracer?: Tracer;
}

/**
 * A SERVER span per RPC (OpenTelemetry RPC conventions: `rpc.system`,
 * `rpc.service`, `rpc.method`, `rpc.grpc.status_code`), a child of the
 * caller's span when the request carries a W3C `traceparent`. The handler
 * runs inside the span's context, so its own outgoing calls continue the
 * trace.
 */
export function createRpcTracingInterceptor(options: RpcTracingOptions = {}): Interceptor {
  const tracer = options.tracer ?? trace.getTracer("@greeter/interceptors");
  return (next) => async (req) => {
    const parent = propagation.extract(context.active(), req.header, headersGetter);
    const { name, attributes } = rpcSpanStart(req, protocolOf(req) === "connect" ? "connect_rpc" : "grpc");
    const span = tracer.startSpan(name, { kind: SpanKind.SERVER, attributes }, parent);
    const active = trace.setSpan(parent, span);
    return traced(span, () => context.with(active, () => next(req)));
  };
}
