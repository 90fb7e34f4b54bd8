import type { Interceptor } from "@connectrpc/connect";
import { createGrpcMetricsInterceptor, type GrpcMetricsOptions } from "../grpc-metrics.js";
import { callOutcome } from "./call-outcome.js";
import { publicError } from "./public-error.js";

export type RpcMetricsOptions = GrpcMetricsOptions;

/**
 * The server metrics of the Prometheus gRPC conventions:
 * `grpc_server_started_total`, `grpc_server_handled_total`,
 * `grpc_server_msg_received_total`, `grpc_server_msg_sent_total` and the
 * `grpc_server_handling_seconds` histogram. A call ended from outside (the
 * client's cancel or disconnect, its deadline) is counted with that code,
 * whatever the handler made of it afterwards (see callOutcome).
 */
export function createRpcMetricsInterceptor(options: RpcMetricsOptions): Interceptor {
  return createGrpcMetricsInterceptor({ name: "server", toError: publicError, outcome: callOutcome }, options);
}
