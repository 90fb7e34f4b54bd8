import { createPublicKey } from "node:crypto";
import type { Interceptor } from "@connectrpc/connect";
import { createValidateInterceptor } from "@connectrpc/validate";
import {
  createAuthInterceptor,
  createChunkChecksumCheckInterceptor,
  createJwtVerifier,
  createRateLimitInterceptor,
  createRequestIdInterceptor,
  createRpcLoggingInterceptor,
  createRpcMetricsInterceptor,
  createRpcTracingInterceptor,
  InvalidTokenError,
  type Principal,
  type RpcLogger,
} from "@greeter/interceptors/server";
import type { Tracer } from "@opentelemetry/api";
import type { Registry } from "prom-client";
import { accessPolicy } from "./access-policy.js";
import type { InterceptorName, ServerConfig } from "./config.js";
import { registerRateLimitMetrics } from "./metrics.js";

export interface InterceptorDeps {
  logger: RpcLogger;
  registry: Registry;
  /** Present when tracing is set up (OTEL_EXPORTER_OTLP_ENDPOINT); without it there is no tracing step. */
  tracer?: Tracer;
}

/**
 * The server's interceptors, in the one order they run (INTERCEPTOR_NAMES):
 * the request id first, so every later step and the log line carry it;
 * tracing next, so its span covers all the rest;
 * metrics and logging next, so they see every outcome, rejections
 * included; the rate limit before auth, so a flood costs no signature
 * checks; auth next, so strangers learn nothing of the rules; validation
 * after it; the chunk checksums last, right before the handler reads the
 * chunks. The same list serves the Connect
 * router and the fast path.
 */
export function createServerInterceptors(config: ServerConfig, deps: InterceptorDeps): Interceptor[] {
  const make: Record<InterceptorName, () => Interceptor> = {
    "request-id": () => createRequestIdInterceptor(),
    tracing: () => createRpcTracingInterceptor({ tracer: deps.tracer }),
    metrics: () => createRpcMetricsInterceptor({ registry: deps.registry }),
    logging: () => createRpcLoggingInterceptor({ logger: deps.logger }),
    "rate-limit": () =>
      createRateLimitInterceptor({
        perSecond: config.rateLimitPerSecond,
        burst: config.rateLimitBurst,
        onLimited: registerRateLimitMetrics(deps.registry, config.rateLimitPerSecond),
      }),
    auth: () => createAuthInterceptor({ verify: tokenVerifier(config), access: accessPolicy(config) }),
    // The official protovalidate interceptor: the proto's buf.validate rules,
    // field violations as buf.validate.Violations error details.
    validation: () => createValidateInterceptor(),
    checksums: () => createChunkChecksumCheckInterceptor(),
  };
  return config.interceptors
    .filter((name) => name !== "rate-limit" || config.rateLimitPerSecond > 0)
    .filter((name) => name !== "tracing" || deps.tracer !== undefined)
    .map((name) => make[name]());
}

function tokenVerifier(config: ServerConfig): (token: string) => Promise<Principal> {
  const options = { issuer: config.authIssuer, audience: config.authAudience };
  if (config.authJwtSecret !== undefined) {
    return createJwtVerifier({ ...options, key: new TextEncoder().encode(config.authJwtSecret) });
  }
  if (config.authPublicKeyFile !== undefined) {
    return createJwtVerifier({ ...options, key: createPublicKey(config.authPublicKeyFile) });
  }
  return () => Promise.reject(new InvalidTokenError("this server has no key to verify tokens with"));
}
