// Server interceptors, in the order the Greeter server chains them:
// request id -> tracing -> metrics (Prometheus, then OpenTelemetry's duration) -> logging -> validation -> chunk checksums -> handler,
// after the request gate (rate limit -> auth), which runs before a call's body is read.

export { type RpcSemconv, rpcSemconvFromOptIn, SEMCONV_OPT_IN_ENV } from "../semconv-mode.js";
export {
  type Access,
  type AuthOptions,
  authSubjectKey,
  createAuthGate,
  type Principal,
} from "./auth.js";
export { type CallInfo, callInfoKey } from "./call-info.js";
export { abortReasonOf, callOutcome } from "./call-outcome.js";
export { createChunkChecksumCheckInterceptor } from "./chunk-checksum-check.js";
export { InvalidTokenError } from "./invalid-token.js";
export {
  isJwtAlgorithm,
  isSecretAlgorithm,
  JWT_ALGORITHMS,
  type JwtAlgorithm,
  PROVIDER_ALGORITHMS,
  SECRET_ALGORITHMS,
} from "./jwt-algorithms.js";
export { createJwtVerifier, type JwtVerifierOptions } from "./jwt-verifier.js";
export { KeyProviderError } from "./key-provider-error.js";
export { type MintTokenOptions, mintToken } from "./mint-token.js";
export { discoverJwksUrl } from "./openid-discovery.js";
export { checkProviderUrl } from "./provider-url.js";
export { publicError } from "./public-error.js";
export { createRateLimitGate, type RateLimitOptions } from "./rate-limit.js";
export { createRemoteKeySet, type RemoteKeySet, type RemoteKeySetOptions } from "./remote-key-set.js";
export { chainGates, type RequestGate } from "./request-gate.js";
export { createRequestIdInterceptor, type RequestIdOptions, requestIdKey, sequentialIds } from "./request-id.js";
export {
  createRpcCallDurationInterceptor,
  RPC_CALL_DURATION_BUCKETS,
  type RpcCallDurationOptions,
} from "./rpc-call-duration.js";
export {
  createRpcLoggingInterceptor,
  type RpcLogFields,
  type RpcLogger,
  type RpcLoggingOptions,
  type RpcLogLevel,
} from "./rpc-logging.js";
export { createRpcMetricsInterceptor, type RpcMetricsOptions } from "./rpc-metrics.js";
export { createRpcTracingInterceptor, type RpcTracingOptions } from "./rpc-tracing.js";
