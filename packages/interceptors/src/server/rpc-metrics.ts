import type { DescMethod } from "@bufbuild/protobuf";
import type { ConnectError, Interceptor, StreamResponse } from "@connectrpc/connect";
import { Counter, Histogram, type Registry } from "prom-client";
import { grpcType } from "./call-info.js";
import { publicError } from "./public-error.js";
import { observeStream } from "./stream-observer.js";

export interface RpcMetricsOptions {
  /** Where the metrics are registered (and scraped from). */
  registry: Registry;
  /**
   * `grpc_server_handling_seconds` buckets, in seconds.
   * @default prom-client's defaults, 5 ms to 10 s
   */
  buckets?: number[];
}

type Labels = [service: string, method: string, type: string];

/** The metrics of one method, bound to its labels once: prom-client's label lookup is the costly part. */
interface MethodMetrics {
  started: { inc(): void };
  received: { inc(): void };
  sent: { inc(): void };
  seconds: { observe(value: number): void };
  handled: Map<number, { inc(): void }>;
  labels: Labels;
}

/**
 * The server metrics of the Prometheus gRPC conventions (go-grpc-prometheus,
 * grpc-ecosystem/go-grpc-middleware), labelled `grpc_service`, `grpc_method`,
 * `grpc_type` and, for `grpc_server_handled_total`, `grpc_code`:
 * started, handled, messages received and sent, and handling time.
 */
export function createRpcMetricsInterceptor(options: RpcMetricsOptions): Interceptor {
  const registers = [options.registry];
  const labelNames = ["grpc_service", "grpc_method", "grpc_type"] as const;
  const started = new Counter({
    name: "grpc_server_started_total",
    help: "Total number of RPCs started on the server.",
    labelNames,
    registers,
  });
  const handled = new Counter({
    name: "grpc_server_handled_total",
    help: "Total number of RPCs completed on the server, regardless of success or failure.",
    labelNames: [...labelNames, "grpc_code"],
    registers,
  });
  const received = new Counter({
    name: "grpc_server_msg_received_total",
    help: "Total number of RPC stream messages received on the server.",
    labelNames,
    registers,
  });
  const sent = new Counter({
    name: "grpc_server_msg_sent_total",
    help: "Total number of gRPC stream messages sent by the server.",
    labelNames,
    registers,
  });
  const seconds = new Histogram({
    name: "grpc_server_handling_seconds",
    help: "Histogram of response latency (seconds) of gRPC that had been application-level handled by the server.",
    labelNames,
    ...(options.buckets && { buckets: options.buckets }),
    registers,
  });

  const byMethod = new Map<DescMethod, MethodMetrics>();
  const metricsOf = (method: DescMethod, type: string): MethodMetrics => {
    let m = byMethod.get(method);
    if (!m) {
      const labels: Labels = [method.parent.typeName, method.name, type];
      m = {
        started: started.labels(...labels),
        received: received.labels(...labels),
        sent: sent.labels(...labels),
        seconds: seconds.labels(...labels),
        handled: new Map(),
        labels,
      };
      byMethod.set(method, m);
    }
    return m;
  };
  const finish = (m: MethodMetrics, begun: number, error: ConnectError | undefined): void => {
    const code = error ? error.code : 0;
    let counter = m.handled.get(code);
    if (!counter) {
      counter = handled.labels(...m.labels, GRPC_CODE_NAMES[code] ?? String(code));
      m.handled.set(code, counter);
    }
    counter.inc();
    m.seconds.observe((performance.now() - begun) / 1000);
  };

  return (next) => async (req) => {
    const m = metricsOf(req.method, grpcType(req));
    const begun = performance.now();
    m.started.inc();
    if (!req.stream) {
      m.received.inc();
      try {
        const res = await next(req);
        m.sent.inc();
        finish(m, begun, undefined);
        return res;
      } catch (e) {
        const error = publicError(e);
        finish(m, begun, error);
        throw error;
      }
    }
    let res: StreamResponse;
    try {
      res = (await next({ ...req, message: observeStream(req.message, () => m.received.inc()) })) as StreamResponse;
    } catch (e) {
      const error = publicError(e);
      finish(m, begun, error);
      throw error;
    }
    return {
      ...res,
      message: observeStream(
        res.message,
        () => m.sent.inc(),
        (error) => finish(m, begun, error),
      ),
    };
  };
}

/** Status names as gRPC spells them, by code number. */
const GRPC_CODE_NAMES = [
  "OK",
  "CANCELLED",
  "UNKNOWN",
  "INVALID_ARGUMENT",
  "DEADLINE_EXCEEDED",
  "NOT_FOUND",
  "ALREADY_EXISTS",
  "PERMISSION_DENIED",
  "RESOURCE_EXHAUSTED",
  "FAILED_PRECONDITION",
  "ABORTED",
  "OUT_OF_RANGE",
  "UNIMPLEMENTED",
  "INTERNAL",
  "UNAVAILABLE",
  "DATA_LOSS",
  "UNAUTHENTICATED",
];
