// Client interceptors; they run in Node and in browsers. Server interceptors
// are in "@greeter/interceptors/server".

export { crc32c } from "./chunk-checksum.js";
export { createBearerTokenInterceptor } from "./client/bearer-token.js";
export { createChunkChecksumInterceptor } from "./client/chunk-checksum-stamp.js";
export { type ClientMetadata, createClientMetadataInterceptor } from "./client/client-metadata.js";
export { type ClientTracingOptions, createClientTracingInterceptor } from "./client/client-tracing.js";
export { createRetryInterceptor, type RetryOptions } from "./client/retry-interceptor.js";
export type { RpcProtocol } from "./rpc-conventions.js";
export { type RpcSemconv, rpcSemconvFromOptIn, SEMCONV_OPT_IN_ENV } from "./semconv-mode.js";
