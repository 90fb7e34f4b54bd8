import type { Interceptor } from "@connectrpc/connect";
import { createValidateInterceptor } from "@connectrpc/validate";
import {
  createChunkChecksumCheckInterceptor,
  createRequestIdInterceptor,
  createRpcCallDurationInterceptor,
  createRpcLoggingInterceptor,
  createRpcMetricsInterceptor,
  createRpcTracingInterceptor,
  type RpcLogger,
} from "@greeter/interceptors/server";
import type { Meter, Tracer } from "@opentelemetry/api";
import type { Registry } from "prom-client";
import { GATE_STEPS, type InterceptorName, type ServerConfig } from "./config.js";

export interface InterceptorDeps {
  logger: RpcLogger;
  registry: Registry;
  /** Present when tracing is set up (OTEL_EXPORTER_OTLP_ENDPOINT); without it there is no tracing step. */
  tracer?: Tracer;
  /** Present when OpenTelemetry metrics are set up: the metrics step then also records `rpc.server.call.duration`. */
  meter?: Meter;
}

/**
 * The server's interceptors, in the one order they run (INTERCEPTOR_NAMES),
 * after the request gate (request-gate.ts: the rate limit and auth, which
 * refuse a call before its body is read): the request id first, so every
 * later step and the log line carry it; tracing next, so its span covers
 * all the rest; metrics (Prometheus's, and OpenTelemetry's duration
 * histogram when metrics are exported) and logging next, so they see every
 * outcome; validation after them; the chunk checksums last, right before
 * the handler reads the chunks. The same list serves the Connect router and
 * the fast path.
 */
export function createServerInterceptors(config: ServerConfig, deps: InterceptorDeps): Interceptor[] {
  const semconv = config.otelSemconvStabilityOptIn ?? "old";
  const make: Record<Exclude<InterceptorName, (typeof GATE_STEPS)[number]>, () => Interceptor | Interceptor[]> = {
    "request-id": () => createRequestIdInterceptor(),
    tracing: () => createRpcTracingInterceptor({ tracer: deps.tracer, semconv }),
    metrics: () => [
      createRpcMetricsInterceptor({ registry: deps.registry }),
      ...(deps.meter ? [createRpcCallDurationInterceptor({ meter: deps.meter, semconv })] : []),
    ],
    logging: () => createRpcLoggingInterceptor({ logger: deps.logger }),
    // The official protovalidate interceptor: the proto's buf.validate rules,
    // field violations as buf.validate.Violations error details.
    validation: () => createValidateInterceptor(),
    checksums: () => createChunkChecksumCheckInterceptor(),
  };
  return config.interceptors
    .filter((name) => name !== "tracing" || deps.tracer !== undefined)
    .flatMap((name) => (isGateStep(name) ? [] : make[name]()));
}

function isGateStep(name: InterceptorName): name is (typeof GATE_STEPS)[number] {
  return (GATE_STEPS as readonly InterceptorName[]).includes(name);
}
