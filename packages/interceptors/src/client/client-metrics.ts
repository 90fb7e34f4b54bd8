import { ConnectError, type Interceptor } from "@connectrpc/connect";
import { createGrpcMetricsInterceptor, type GrpcMetricsOptions } from "../grpc-metrics.js";

export type ClientMetricsOptions = GrpcMetricsOptions;

/**
 * The client metrics of the Prometheus gRPC conventions, the counterparts
 * of the server's: `grpc_client_started_total`, `grpc_client_handled_total`,
 * `grpc_client_msg_sent_total`, `grpc_client_msg_received_total` and the
 * `grpc_client_handling_seconds` histogram. Put it outside the retry
 * interceptor to count calls as the application makes them, inside to count
 * every attempt. Node only (prom-client).
 */
export function createClientMetricsInterceptor(options: ClientMetricsOptions): Interceptor {
  return createGrpcMetricsInterceptor({ name: "client", toError: (e) => ConnectError.from(e) }, options);
}
