// Client metrics need prom-client, which runs in Node only, so they have an
// entry point of their own: "@greeter/interceptors/client-metrics".
export { type ClientMetricsOptions, createClientMetricsInterceptor } from "./client/client-metrics.js";
