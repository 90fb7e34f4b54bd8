import type { DescMethod } from "@bufbuild/protobuf";
import type { ConnectError, Interceptor, StreamRequest, StreamResponse, UnaryRequest } from "@connectrpc/connect";
import type { Registry } from "prom-client";
import { callNext } from "./call-next.js";
import { grpcType } from "./grpc-type.js";
import { type CounterSeries, type HistogramSeries, PlainCounter, PlainHistogram } from "./prometheus/plain-metrics.js";
import { GRPC_CODE_NAMES } from "./rpc-conventions.js";
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

/** The series of one method: asked for once, then plain numbers to add to (see plain-metrics.ts). */
interface MethodMetrics {
  started: CounterSeries;
  /** Messages of the request stream: received on a server, sent by a client. */
  requests: CounterSeries;
  /** Messages of the response stream: sent by a server, received by a client. */
  responses: CounterSeries;
  seconds: HistogramSeries;
  /** By status code number. */
  handled: Map<number, CounterSeries>;
  labels: Record<(typeof LABEL_NAMES)[number], string>;
}

const LABEL_NAMES = ["grpc_service", "grpc_method", "grpc_type"] as const;

interface Side {
  name: "server" | "client";
  /** The error the other end sees for whatever a call failed with. */
  toError: (e: unknown) => ConnectError;
  /** How a call that ended with `error` (undefined: OK) is counted; as it is if absent. */
  outcome?: (req: UnaryRequest | StreamRequest, error: ConnectError | undefined) => ConnectError | undefined;
}

/**
 * The metrics of the Prometheus gRPC conventions (go-grpc-prometheus,
 * grpc-ecosystem/go-grpc-middleware) for one side of the call, labelled
 * `grpc_service`, `grpc_method`, `grpc_type` and, for the handled counter,
 * `grpc_code`: started, handled, messages received and sent, and time.
 */
export function createGrpcMetricsInterceptor(side: Side, options: GrpcMetricsOptions): Interceptor {
  const registers = [options.registry];
  const labelNames = LABEL_NAMES;
  const prefix = `grpc_${side.name}`;
  const on = `on the ${side.name}`;
  const started = new PlainCounter({
    name: `${prefix}_started_total`,
    help: `Total number of RPCs started ${on}.`,
    labelNames,
    registers,
  });
  const handled = new PlainCounter({
    name: `${prefix}_handled_total`,
    help: `Total number of RPCs completed ${on}, regardless of success or failure.`,
    labelNames: [...labelNames, "grpc_code"],
    registers,
  });
  const received = new PlainCounter({
    name: `${prefix}_msg_received_total`,
    help: `Total number of RPC stream messages received ${on}.`,
    labelNames,
    registers,
  });
  const sent = new PlainCounter({
    name: `${prefix}_msg_sent_total`,
    help: `Total number of gRPC stream messages sent ${on}.`,
    labelNames,
    registers,
  });
  const seconds = new PlainHistogram({
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
      const labels = { grpc_service: method.parent.typeName, grpc_method: method.name, grpc_type: type };
      m = {
        started: started.seriesFor(labels),
        requests: requestMessages.seriesFor(labels),
        responses: responseMessages.seriesFor(labels),
        seconds: seconds.seriesFor(labels),
        handled: new Map(),
        labels,
      };
      byMethod.set(method, m);
    }
    return m;
  };
  const { outcome } = side;
  const finish = (
    m: MethodMetrics,
    begun: number,
    req: UnaryRequest | StreamRequest,
    ended: ConnectError | undefined,
  ): void => {
    const error = outcome ? outcome(req, ended) : ended;
    const code = error ? error.code : 0;
    let counter = m.handled.get(code);
    if (!counter) {
      counter = handled.seriesFor({ ...m.labels, grpc_code: GRPC_CODE_NAMES[code] ?? String(code) });
      m.handled.set(code, counter);
    }
    counter.value++;
    m.seconds.observe((performance.now() - begun) / 1000);
  };

  const streamCall = async (
    next: Parameters<Interceptor>[0],
    req: StreamRequest,
    m: MethodMetrics,
    begun: number,
  ): Promise<StreamResponse> => {
    let res: StreamResponse;
    try {
      res = (await next({
        ...req,
        message: observeStream(req.message, side.toError, () => m.requests.value++),
      })) as StreamResponse;
    } catch (e) {
      const error = side.toError(e);
      finish(m, begun, req, error);
      throw error;
    }
    return {
      ...res,
      message: observeStream(
        res.message,
        side.toError,
        () => m.responses.value++,
        (error) => finish(m, begun, req, error),
      ),
    };
  };

  // The unary path with promise callbacks, not as an async function: see callNext.
  return (next) => (req) => {
    const m = metricsOf(req.method, grpcType(req));
    const begun = performance.now();
    m.started.value++;
    if (req.stream) return streamCall(next, req, m, begun);
    m.requests.value++;
    return callNext(next, req).then(
      (res) => {
        m.responses.value++;
        finish(m, begun, req, undefined);
        return res;
      },
      (e: unknown) => {
        const error = side.toError(e);
        finish(m, begun, req, error);
        throw error;
      },
    );
  };
}
