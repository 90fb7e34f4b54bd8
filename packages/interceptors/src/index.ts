export { createRetryInterceptor, type RetryOptions } from "./retry-interceptor.js";
