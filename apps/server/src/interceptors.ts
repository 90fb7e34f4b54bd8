import type { Interceptor } from "@connectrpc/connect";
import { createValidateInterceptor } from "@connectrpc/validate";
import {
  createAuthInterceptor,
  createChunkChecksumCheckInterceptor,
  createRateLimitInterceptor,
  createRequestIdInterceptor,
  createRpcCallDurationInterceptor,
  createRpcLoggingInterceptor,
  createRpcMetricsInterceptor,
  createRpcTracingInterceptor,
  type RpcLogger,
} from "@greeter/interceptors/server";
import type { Meter, Tracer } from "@opentelemetry/api";
import type { Registry } from "prom-client";
import { accessPolicy } from "./access-policy.js";
import type { InterceptorName, ServerConfig } from "./config.js";
import { registerRateLimitMetrics } from "./metrics.js";
import type { TokenVerifier } from "./token-verifier.js";

export interface InterceptorDeps {
  logger: RpcLogger;
  registry: Registry;
  /** Present when tracing is set up (OTEL_EXPORTER_OTLP_ENDPOINT); without it there is no tracing step. */
  tracer?: Tracer;
  /** The auth step's token check (token-verifier.ts: made, and its keys fetched, before the server listens). */
  verifyToken: TokenVerifier;
  /** Present when OpenTelemetry metrics are set up: the metrics step then also records `rpc.server.call.duration`. */
  meter?: Meter;
}

/**
 * The server's interceptors, in the one order they run (INTERCEPTOR_NAMES):
 * the request id first, so every later step and the log line carry it;
 * tracing next, so its span covers all the rest;
 * metrics (Prometheus's, and OpenTelemetry's duration histogram when
 * metrics are exported) and logging next, so they see every outcome,
 * rejections included; the rate limit before auth, so a flood costs no signature
 * checks; auth next, so strangers learn nothing of the rules; validation
 * after it; the chunk checksums last, right before the handler reads the
 * chunks. The same list serves the Connect
 * router and the fast path.
 */
export function createServerInterceptors(config: ServerConfig, deps: InterceptorDeps): Interceptor[] {
  const semconv = config.otelSemconvStabilityOptIn ?? "old";
  const make: Record<InterceptorName, () => Interceptor | Interceptor[]> = {
    "request-id": () => createRequestIdInterceptor(),
    tracing: () => createRpcTracingInterceptor({ tracer: deps.tracer, semconv }),
    metrics: () => [
      createRpcMetricsInterceptor({ registry: deps.registry }),
      ...(deps.meter ? [createRpcCallDurationInterceptor({ meter: deps.meter, semconv })] : []),
    ],
    logging: () => createRpcLoggingInterceptor({ logger: deps.logger }),
    "rate-limit": () =>
      createRateLimitInterceptor({
        perSecond: config.rateLimitPerSecond,
        burst: config.rateLimitBurst,
        onLimited: registerRateLimitMetrics(deps.registry, config.rateLimitPerSecond),
      }),
    auth: () => createAuthInterceptor({ verify: deps.verifyToken, access: accessPolicy(config) }),
    // The official protovalidate interceptor: the proto's buf.validate rules,
    // field violations as buf.validate.Violations error details.
    validation: () => createValidateInterceptor(),
    checksums: () => createChunkChecksumCheckInterceptor(),
  };
  return config.interceptors
    .filter((name) => name !== "rate-limit" || config.rateLimitPerSecond > 0)
    .filter((name) => name !== "tracing" || deps.tracer !== undefined)
    .flatMap((name) => make[name]());
}
