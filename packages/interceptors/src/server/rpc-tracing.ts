import type { Interceptor } from "@connectrpc/connect";
import { context, propagation, SpanKind, type Tracer, trace } from "@opentelemetry/api";
import { rpcSystemOf } from "../rpc-conventions.js";
import { headersGetter, rpcSpanStart, traced } from "../rpc-span.js";
import type { RpcSemconv } from "../semconv-mode.js";
import { protocolOf } from "./call-info.js";

export interface RpcTracingOptions {
  /** @default the global tracer provider's "@greeter/interceptors" tracer */
  tracer?: Tracer;
  /**
   * Which RPC conventions the spans follow (see semconv-mode.ts; the
   * server reads `OTEL_SEMCONV_STABILITY_OPT_IN` once at start).
   * @default "old", what the spans have always carried
   */
  semconv?: RpcSemconv;
}

/**
 * A SERVER span per RPC, named `service/method`, with the OpenTelemetry
 * RPC conventions' attributes (old: `rpc.system`, `rpc.service`,
 * `rpc.method`, `rpc.grpc.status_code`; stable: `rpc.system.name`,
 * `rpc.method`, `rpc.status_code`, `error.type`), a child of the caller's
 * span when the request carries a W3C `traceparent`. The handler runs
 * inside the span's context, so its own outgoing calls continue the trace.
 *
 * No `server.address`/`server.port` (recommended on stable server spans):
 * they must come from the `:authority` the client used, which the fast
 * path's requests do not carry; the conventions say to leave them out then.
 */
export function createRpcTracingInterceptor(options: RpcTracingOptions = {}): Interceptor {
  const tracer = options.tracer ?? trace.getTracer("@greeter/interceptors");
  const semconv = options.semconv ?? "old";
  return (next) => async (req) => {
    const parent = propagation.extract(context.active(), req.header, headersGetter);
    const conventions = { system: rpcSystemOf(protocolOf(req)), semconv, side: "server" } as const;
    const { name, attributes } = rpcSpanStart(req, conventions);
    const span = tracer.startSpan(name, { kind: SpanKind.SERVER, attributes }, parent);
    const active = trace.setSpan(parent, span);
    return traced(span, conventions, () => context.with(active, () => next(req)));
  };
}
