import { setMaxListeners } from "node:events";
import type { AddressInfo } from "node:net";
import { setDefaultHighWaterMark } from "node:stream";
import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import { compressionBrotli, compressionGzip } from "@connectrpc/connect-node";
import { createConnectServer } from "@greeter/connect-server";
import { createHealthService, type HealthService, OVERALL_SERVICE, ServingStatus } from "@greeter/grpc-health";
import { callInfoKey } from "@greeter/interceptors/server";
import type { MemoryGuard, OnePortServer } from "@greeter/one-port";
import { Greeter } from "@greeter/proto/greeter/v1/greeter_pb.js";
import type { IMetricReader } from "@opentelemetry/sdk-metrics";
import type { SpanExporter } from "@opentelemetry/sdk-trace";
import { type FastifyBaseLogger, type FastifyInstance, LogController } from "fastify";
import type { DestinationStream } from "pino";
import type { Registry } from "prom-client";
import { createAdminServer } from "./admin/admin-server.js";
import { type MetricsSource, registerHealthz, registerMetrics } from "./admin/observability-routes.js";
import type { ServerConfig } from "./config.js";
import { EXPOSED_HEADERS, registerCors } from "./cors.js";
import { createOverloadDefences } from "./edge/overload.js";
import { createRefusalReporter, createSampledWarn } from "./edge/refusals.js";
import { createServerInterceptors } from "./interceptors.js";
import { createLoggers } from "./logging/logger.js";
import { createMetricsRegistry, registerLogOutputMetrics } from "./metrics.js";
import { notFoundHandler } from "./not-found.js";
import { registerOpenApi } from "./openapi/register-openapi.js";
import { setupOtelMetrics } from "./otel-metrics.js";
import { createRequestGate } from "./request-gate.js";
import { createRoutes } from "./routes.js";
import { createTokenVerifier } from "./token-verifier.js";
import { setupTracing } from "./tracing.js";
import { registerWebApp } from "./web-app.js";
import { answerClusterMetrics, clusterMetricsSource } from "./workers/workers.js";

/**
 * The bytes a stream buffers before its writer waits (the default before
 * Node 22, which raised it to 64 KiB). A client that opens streams and never reads
 * makes the server fill each one's buffer, and connect-node fills it one
 * small write at a time, at about 280 bytes of heap per write: at 64 KiB a
 * stalled GreetStream held 0.5 MB, and 1,000 of them exhausted the heap.
 */
const STREAM_HIGH_WATER_MARK = 16 * 1024;

/** Time left, at the end of the grace period, for streams to send their UNAVAILABLE status. */
const STREAM_CUTOFF_MARGIN_MS = 200;

/** A built, not yet listening, Greeter server. */
export interface GreeterServer {
  readonly app: FastifyInstance;
  readonly health: HealthService;
  readonly onePort: OnePortServer;
  /** The Prometheus registry served at /metrics. */
  readonly metrics: Registry;
  /**
   * The admin listener's base URL once listening (`http://127.0.0.1:9090`):
   * undefined without ADMIN_PORT, and in a cluster worker, whose primary
   * holds the admin port.
   */
  readonly adminUrl: string | undefined;
  /** Starts listening, on the admin port too; resolves to the public base URL, e.g. `http://127.0.0.1:50051`. */
  listen(): Promise<string>;
  /**
   * Graceful shutdown: reports NOT_SERVING at once, goes on serving for
   * `drainDelayMs` (balancers take the server out meanwhile), then stops
   * accepting, lets in-flight calls finish within `shutdownGraceMs`, and
   * closes, the admin listener last (the drain's metrics can be scraped
   * until then).
   */
  close(): Promise<void>;
}

/**
 * Builds the server without listening: Fastify on a port that speaks
 * HTTP/1.1 and HTTP/2, with the Connect routes for gRPC, gRPC-Web and
 * Connect, health endpoints, CORS and, if configured, the web app.
 */
export interface BuildOptions {
  /** Where log lines go instead of stdout (tests read them). */
  logDestination?: DestinationStream;
  /**
   * This process is a cluster worker: /metrics shows the whole cluster's,
   * summed by the primary; with ADMIN_PORT the primary serves it there, and
   * the worker opens no admin listener.
   */
  clusterWorker?: boolean;
  /** Where spans go instead of OTEL_EXPORTER_OTLP_ENDPOINT (tests read them). */
  spanExporter?: SpanExporter;
  /** What reads the OpenTelemetry metrics instead of an OTLP export (OTLP_METRICS): tests collect them. */
  metricReader?: IMetricReader;
  /** A memory guard instead of one made from MEMORY_LIMIT_BYTES (tests set the pressure). */
  memoryGuard?: MemoryGuard;
  /**
   * Interceptors run after Greeter's own, next to the services, on both
   * paths: tests make calls fail in ways Greeter's services never do (an
   * error carrying protocol headers, say). Default: none.
   */
  innerInterceptors?: Interceptor[];
}

export async function buildServer(config: ServerConfig, options: BuildOptions = {}): Promise<GreeterServer> {
  setDefaultHighWaterMark(false, STREAM_HIGH_WATER_MARK);
  const health = createHealthService({ initial: { [Greeter.typeName]: ServingStatus.SERVING } });
  const routes = createRoutes({ health, reflection: config.reflection !== "off" });
  // Aborting it ends every running handler (see close()). Every call in
  // flight listens to it, so Node's "possible leak" warning at 10 listeners
  // would fire under ordinary load; each call removes its listener when done.
  const shutdown = new AbortController();
  setMaxListeners(0, shutdown.signal);
  const { logger, rpc: rpcLogger, output: logOutput } = createLoggers(config, options.logDestination);
  // First: an identity provider's keys are fetched here, and without them the server does not start.
  const verifyToken = await createTokenVerifier(config, logger);
  const metrics = createMetricsRegistry();
  if (logOutput) registerLogOutputMetrics(metrics, logOutput.stats);
  const warnSampled = createSampledWarn(logger);
  const refusals = createRefusalReporter(warnSampled, metrics);
  const overload = createOverloadDefences(config, logger, warnSampled, metrics, options.memoryGuard);
  const tracing = setupTracing({ endpoint: config.otelExporterOtlpEndpoint, exporter: options.spanExporter });
  const otelMetrics = setupOtelMetrics({
    endpoint: config.otlpMetrics ? config.otelExporterOtlpEndpoint : undefined,
    reader: options.metricReader,
  });
  const interceptors = [
    ...createServerInterceptors(config, {
      logger: rpcLogger,
      registry: metrics,
      tracer: tracing?.tracer,
      meter: otelMetrics?.meter,
    }),
    ...(options.innerInterceptors ?? []),
  ];

  // The one assembly (@greeter/connect-server): the fast path in front,
  // Fastify and connect-fastify behind it, on one port. With
  // FAST_PATH=false only what connect-node lacks is answered ahead of
  // Fastify: gRPC-Web's text mode, and bad base64 in a Connect GET.
  const { app, onePort: port } = await createConnectServer({
    routes: routes.register,
    router: {
      requestGate: createRequestGate(config, { registry: metrics, verifyToken }),
      acceptCompression: [compressionGzip, compressionBrotli],
      compressMinBytes: config.compressMinBytes,
      readMaxBytes: config.maxMessageBytes,
      writeMaxBytes: config.maxMessageBytes,
      shutdownSignal: shutdown.signal,
      interceptors,
    },
    fastPath: config.fastPath,
    corsOrigins: config.corsOrigins,
    corsExposedHeaders: EXPOSED_HEADERS,
    // The request id interceptor's header: a new value on every response.
    neverIndexedHeaders: ["x-request-id"],
    requestBudget: overload.requestBudget,
    // Greeter's interceptors log and count by it, on both paths.
    callInfoKey,
    onRefused: refusals.record,
    onePort: {
      tls: config.tlsCert && config.tlsKey ? { cert: config.tlsCert, key: config.tlsKey } : undefined,
      maxConnectionAgeMs: config.maxConnectionAgeMs,
      maxConnectionAgeGraceMs: config.maxConnectionAgeGraceMs,
      keepaliveTimeMs: config.keepaliveTimeMs,
      keepaliveTimeoutMs: config.keepaliveTimeoutMs,
      idleTimeoutMs: config.idleTimeoutMs,
      headersTimeoutMs: config.headersTimeoutMs,
      maxConnections: config.maxConnections,
      maxConnectionsPerAddress: config.maxConnectionsPerAddress,
      http2Settings: { maxConcurrentStreams: config.maxConcurrentStreams },
      ...overload.onePortOptions,
      onResetFlood: (peer) => logger.warn({ peer }, "http2 connection cut: reset flood"),
    },
    fastify: {
      loggerInstance: logger as FastifyBaseLogger,
      // One log line per HTTP request is noise for RPC traffic.
      logController: new LogController({ disableRequestLogging: true }),
      // Keep answering during the drain: the drain itself tells clients to
      // go (GOAWAY, `connection: close`); a 503 would fail calls already sent.
      return503OnClosing: false,
    },
    beforeRoutes: (fastify) => registerCors(fastify, config.corsOrigins),
  });
  overload.usePort(port);

  // Balancers probe the public port: /healthz stays there with or without
  // an admin port.
  const isServing = () => health.getStatus(OVERALL_SERVICE) === ServingStatus.SERVING;
  registerHealthz(app, isServing);
  const metricsSource = createMetricsSource(config, metrics, options.clusterWorker ?? false);
  const admin =
    config.adminPort !== undefined && !options.clusterWorker
      ? createAdminServer({
          port: config.adminPort,
          host: config.adminHost,
          metrics: metricsSource,
          isServing,
          logger: logger as FastifyBaseLogger,
        })
      : undefined;
  // With an admin port, /metrics is answered there alone: here it is an
  // unknown path like any other.
  if (metricsSource && config.adminPort === undefined) registerMetrics(app, metricsSource);
  registerOpenApi(app, config);
  if (config.webRoot) await registerWebApp(app, config.webRoot);
  app.setNotFoundHandler(notFoundHandler);

  let adminUrl: string | undefined;
  return {
    app,
    health,
    onePort: port,
    metrics,
    get adminUrl() {
      return adminUrl;
    },
    async listen() {
      // The admin port first: a scraper that cannot reach it is a
      // configuration error worth failing start-up for, before any call is taken.
      if (admin) {
        adminUrl = await admin.listen();
        app.log.info(`admin port listening on ${adminUrl}: /metrics, /healthz`);
      }
      try {
        await app.listen({ port: config.port, host: config.host });
      } catch (e) {
        await admin?.close();
        throw e;
      }
      const { address, family, port: bound } = port.server.address() as AddressInfo;
      const host = family === "IPv6" ? `[${address}]` : address;
      return `${config.tlsCert ? "https" : "http"}://${host}:${bound}`;
    },
    async close() {
      health.shutdown();
      // Still accepting: a balancer sends calls here until its next check
      // fails (or its endpoints update), and they must find an open port.
      if (config.drainDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, config.drainDelayMs));
      // Streams still open when the grace period is nearly over end with
      // UNAVAILABLE, which clients take as "retry elsewhere", before their
      // connections are cut.
      const cutOff = setTimeout(
        () => shutdown.abort(new ConnectError("the server is shutting down", Code.Unavailable)),
        Math.max(0, config.shutdownGraceMs - STREAM_CUTOFF_MARGIN_MS),
      );
      try {
        await port.drain(config.shutdownGraceMs);
      } finally {
        clearTimeout(cutOff);
      }
      // The drain closed the listener and every connection: what is left is
      // Fastify's own onClose hooks.
      await app.close();
      overload.close();
      await tracing?.shutdown();
      await otelMetrics?.shutdown();
      await admin?.close();
    },
  };
}

/**
 * What /metrics serves, or undefined when the metrics interceptor is off. In
 * a cluster worker it is the cluster's sum, asked of the primary; with an
 * admin port the primary serves that itself, and the worker only answers
 * the primary's collection.
 */
function createMetricsSource(
  config: ServerConfig,
  registry: Registry,
  clusterWorker: boolean,
): MetricsSource | undefined {
  if (!config.interceptors.includes("metrics")) return undefined;
  if (!clusterWorker) return { contentType: registry.contentType, text: () => registry.metrics() };
  if (config.adminPort !== undefined) {
    answerClusterMetrics(registry);
    return undefined;
  }
  return { contentType: registry.contentType, text: clusterMetricsSource(registry) };
}
