import type { DescMethod } from "@bufbuild/protobuf";
import type { ConnectError, Interceptor, StreamResponse } from "@connectrpc/connect";
import { Counter, Histogram, type Registry } from "prom-client";
import { grpcType } from "./server/call-info.js";
import { observeStream } from "./stream-observer.js";

export interface GrpcMetricsOptions {
  /** Where the metrics are registered (and scraped from). */
  registry: Registry;
  /**
   * `grpc_<side>_handling_seconds` buckets, in seconds.
   * @default prom-client's defaults, 5 ms to 10 s
   */
  buckets?: number[];
}

type Labels = [service: string, method: string, type: string];

/** The metrics of one method, bound to its labels once: prom-client's label lookup is the costly part. */
interface MethodMetrics {
  started: { inc(): void };
  /** Messages of the request stream: received on a server, sent by a client. */
  requests: { inc(): void };
  /** Messages of the response stream: sent by a server, received by a client. */
  responses: { inc(): void };
  seconds: { observe(value: number): void };
  handled: Map<number, { inc(): void }>;
  labels: Labels;
}

interface Side {
  name: "server" | "client";
  /** The error the other end sees for whatever a call failed with. */
  toError: (e: unknown) => ConnectError;
}

/**
 * The metrics of the Prometheus gRPC conventions (go-grpc-prometheus,
 * grpc-ecosystem/go-grpc-middleware) for one side of the call, labelled
 * `grpc_service`, `grpc_method`, `grpc_type` and, for the handled counter,
 * `grpc_code`: started, handled, messages received and sent, and time.
 */
export function createGrpcMetricsInterceptor(side: Side, options: GrpcMetricsOptions): Interceptor {
  const registers = [options.registry];
  const labelNames = ["grpc_service", "grpc_method", "grpc_type"] as const;
  const prefix = `grpc_${side.name}`;
  const on = `on the ${side.name}`;
  const started = new Counter({
    name: `${prefix}_started_total`,
    help: `Total number of RPCs started ${on}.`,
    labelNames,
    registers,
  });
  const handled = new Counter({
    name: `${prefix}_handled_total`,
    help: `Total number of RPCs completed ${on}, regardless of success or failure.`,
    labelNames: [...labelNames, "grpc_code"],
    registers,
  });
  const received = new Counter({
    name: `${prefix}_msg_received_total`,
    help: `Total number of RPC stream messages received ${on}.`,
    labelNames,
    registers,
  });
  const sent = new Counter({
    name: `${prefix}_msg_sent_total`,
    help: `Total number of gRPC stream messages sent ${on}.`,
    labelNames,
    registers,
  });
  const seconds = new Histogram({
    name: side.name === "server" ? "grpc_server_handling_seconds" : "grpc_client_handling_seconds",
    help:
      side.name === "server"
        ? "Histogram of response latency (seconds) of gRPC that had been application-level handled by the server."
        : "Histogram of response latency (seconds) of the gRPC until it is finished by the application.",
    labelNames,
    ...(options.buckets && { buckets: options.buckets }),
    registers,
  });
  const [requestMessages, responseMessages] = side.name === "server" ? [received, sent] : [sent, received];

  const byMethod = new Map<DescMethod, MethodMetrics>();
  const metricsOf = (method: DescMethod, type: string): MethodMetrics => {
    let m = byMethod.get(method);
    if (!m) {
      const labels: Labels = [method.parent.typeName, method.name, type];
      m = {
        started: started.labels(...labels),
        requests: requestMessages.labels(...labels),
        responses: responseMessages.labels(...labels),
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
      m.requests.inc();
      try {
        const res = await next(req);
        m.responses.inc();
        finish(m, begun, undefined);
        return res;
      } catch (e) {
        const error = side.toError(e);
        finish(m, begun, error);
        throw error;
      }
    }
    let res: StreamResponse;
    try {
      res = (await next({
        ...req,
        message: observeStream(req.message, side.toError, () => m.requests.inc()),
      })) as StreamResponse;
    } catch (e) {
      const error = side.toError(e);
      finish(m, begun, error);
      throw error;
    }
    return {
      ...res,
      message: observeStream(
        res.message,
        side.toError,
        () => m.responses.inc(),
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
