import { setMaxListeners } from "node:events";
import type { Server as HttpServer } from "node:http";
import type { AddressInfo } from "node:net";
import { Code, ConnectError, createContextValues } from "@connectrpc/connect";
import { fastifyConnectPlugin } from "@connectrpc/connect-fastify";
import { compressionBrotli, compressionGzip } from "@connectrpc/connect-node";
import { createConnectNodeCompletions, createFastPath } from "@greeter/connect-fast-path";
import { createHealthService, type HealthService, OVERALL_SERVICE, ServingStatus } from "@greeter/grpc-health";
import { callInfoKey } from "@greeter/interceptors/server";
import { createOnePortServer, type DualRequestListener, type OnePortServer } from "@greeter/one-port";
import { Greeter } from "@greeter/proto/greeter/v1/greeter_pb.js";
import type { SpanExporter } from "@opentelemetry/sdk-trace";
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from "fastify";
import type { DestinationStream } from "pino";
import type { Registry } from "prom-client";
import type { ServerConfig } from "./config.js";
import { connectNodeCallInfo } from "./connect-node-call-info.js";
import { EXPOSED_HEADERS, registerCors } from "./cors.js";
import { encodeGrpcMessagesAsSpecified } from "./grpc-message-encoding.js";
import { createServerInterceptors } from "./interceptors.js";
import { createLoggers } from "./logging/logger.js";
import { createMetricsRegistry, registerLogOutputMetrics } from "./metrics.js";
import { notFoundHandler } from "./not-found.js";
import { registerOpenApi } from "./openapi/register-openapi.js";
import { useFastUtf8Encoding } from "./protobuf-utf8.js";
import { createRoutes } from "./routes.js";
import { setupTracing } from "./tracing.js";
import { registerWebApp } from "./web-app.js";
import { clusterMetricsSource } from "./workers/workers.js";

/** Time left, at the end of the grace period, for streams to send their UNAVAILABLE status. */
const STREAM_CUTOFF_MARGIN_MS = 200;

/** A built, not yet listening, Greeter server. */
export interface GreeterServer {
  readonly app: FastifyInstance;
  readonly health: HealthService;
  readonly onePort: OnePortServer;
  /** The Prometheus registry served at /metrics. */
  readonly metrics: Registry;
  /** Starts listening; resolves to the base URL, e.g. `http://127.0.0.1:50051`. */
  listen(): Promise<string>;
  /**
   * Graceful shutdown: reports NOT_SERVING at once, stops accepting, lets
   * in-flight calls finish within `shutdownGraceMs`, then closes.
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
  /** This process is a cluster worker: /metrics shows the whole cluster's, summed by the primary. */
  clusterWorker?: boolean;
  /** Where spans go instead of OTEL_EXPORTER_OTLP_ENDPOINT (tests read them). */
  spanExporter?: SpanExporter;
}

export async function buildServer(config: ServerConfig, options: BuildOptions = {}): Promise<GreeterServer> {
  useFastUtf8Encoding();
  const health = createHealthService({ initial: { [Greeter.typeName]: ServingStatus.SERVING } });
  const routes = createRoutes({ health });
  // Aborting it ends every running handler (see close()). Every call in
  // flight listens to it, so Node's "possible leak" warning at 10 listeners
  // would fire under ordinary load; each call removes its listener when done.
  const shutdown = new AbortController();
  setMaxListeners(0, shutdown.signal);
  let onePort: OnePortServer | undefined;
  const { logger, rpc: rpcLogger, output: logOutput } = createLoggers(config, options.logDestination);
  const metrics = createMetricsRegistry();
  if (logOutput) registerLogOutputMetrics(metrics, logOutput.stats);
  const tracing = setupTracing({ endpoint: config.otelExporterOtlpEndpoint, exporter: options.spanExporter });
  const interceptors = createServerInterceptors(config, {
    logger: rpcLogger,
    registry: metrics,
    tracer: tracing?.tracer,
  });

  const routerOptions = {
    acceptCompression: [compressionGzip, compressionBrotli],
    compressMinBytes: config.compressMinBytes,
    readMaxBytes: config.maxMessageBytes,
    writeMaxBytes: config.maxMessageBytes,
    shutdownSignal: shutdown.signal,
    interceptors,
  };
  // Most calls are answered before Fastify (the fast path: uncompressed
  // unary calls and server streams); what it hands on goes to Fastify and
  // connect-fastify. With FAST_PATH=false only what connect-node lacks is
  // answered there: gRPC-Web's text mode, and bad base64 in a Connect GET.
  const front = {
    ...routerOptions,
    routes: routes.register,
    corsOrigins: config.corsOrigins,
    corsExposedHeaders: EXPOSED_HEADERS,
    // The request id interceptor's header: a new value on every response.
    neverIndexedHeaders: ["x-request-id"],
  };
  const fastPath = config.fastPath ? createFastPath(front) : undefined;
  const ahead = fastPath ?? createConnectNodeCompletions(front);

  const app = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    // One log line per HTTP request is noise for RPC traffic.
    logController: new LogController({ disableRequestLogging: true }),
    // Keep answering during the drain: the drain itself tells clients to
    // go (GOAWAY, `connection: close`); a 503 would fail calls already sent.
    return503OnClosing: false,
    // Fastify's types know one server kind at a time. At run time requests
    // arrive through `http` or `http2`'s compatibility API, which offers
    // what Fastify and connect-node use (`request.raw.httpVersion` tells).
    serverFactory(handler) {
      const dual = handler as DualRequestListener;
      const listener: DualRequestListener = (req, res) => {
        if (ahead.handle(req, res)) return;
        encodeGrpcMessagesAsSpecified(req.headers, res);
        dual(req, res);
      };
      onePort = createOnePortServer(listener, {
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
        takeStream: fastPath?.takeStream,
        onResetFlood: (peer) => logger.warn({ peer }, "http2 connection cut: reset flood"),
      });
      return onePort.server as HttpServer;
    },
  });
  if (!onePort) throw new Error("Fastify did not call serverFactory");
  const port = onePort;

  await registerCors(app, config.corsOrigins);
  await app.register(fastifyConnectPlugin, {
    routes: routes.register,
    ...routerOptions,
    contextValues: (request) => createContextValues().set(callInfoKey, connectNodeCallInfo(request.raw)),
  });

  app.get("/healthz", (_request, reply) => {
    const serving = health.getStatus(OVERALL_SERVICE) === ServingStatus.SERVING;
    reply.code(serving ? 200 : 503).send({ status: serving ? "SERVING" : "NOT_SERVING" });
  });
  if (config.interceptors.includes("metrics")) {
    const metricsText = options.clusterWorker ? clusterMetricsSource(metrics) : () => metrics.metrics();
    app.get("/metrics", async (_request, reply) => {
      reply.type(metrics.contentType).send(await metricsText());
    });
  }
  registerOpenApi(app, config);
  if (config.webRoot) await registerWebApp(app, config.webRoot);
  app.setNotFoundHandler(notFoundHandler);

  return {
    app,
    health,
    onePort: port,
    metrics,
    async listen() {
      await app.listen({ port: config.port, host: config.host });
      const { address, family, port: bound } = port.server.address() as AddressInfo;
      const host = family === "IPv6" ? `[${address}]` : address;
      return `${config.tlsCert ? "https" : "http"}://${host}:${bound}`;
    },
    async close() {
      health.shutdown();
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
      await tracing?.shutdown();
    },
  };
}
