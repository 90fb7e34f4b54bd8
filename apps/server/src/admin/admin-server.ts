import type { AddressInfo } from "node:net";
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from "fastify";
import { notFoundHandler } from "../not-found.js";
import { type MetricsSource, registerHealthz, registerMetrics } from "./observability-routes.js";

export interface AdminServerOptions {
  /** ADMIN_PORT; 0 picks a free one. */
  port: number;
  /** ADMIN_HOST. */
  host: string;
  /** What /metrics serves; without it (the metrics interceptor is off) the admin port has no /metrics. */
  metrics?: MetricsSource;
  /** What /healthz reports: the same state the public port's /healthz reports. */
  isServing: () => boolean;
  logger: FastifyBaseLogger;
}

/** The admin listener, built and not yet listening. */
export interface AdminServer {
  readonly app: FastifyInstance;
  /** Starts listening; resolves to its base URL, e.g. `http://127.0.0.1:9090`. */
  listen(): Promise<string>;
  /** Stops accepting, closes idle connections, and resolves once the requests in flight are answered. */
  close(): Promise<void>;
}

/**
 * The private listener of ADMIN_PORT: /metrics and /healthz over plain
 * HTTP/1.1, which is all a scraper or a probe speaks, and the same
 * UNIMPLEMENTED answer as the public port for anything else. None of the
 * public port's machinery (one-port, the fast path, the budgets) stands in
 * front of it: it is for the operator's network, and must answer when the
 * public port is shedding load.
 */
export function createAdminServer(options: AdminServerOptions): AdminServer {
  const app = Fastify({
    loggerInstance: options.logger,
    logController: new LogController({ disableRequestLogging: true }),
  });
  registerHealthz(app, options.isServing);
  if (options.metrics) registerMetrics(app, options.metrics);
  app.setNotFoundHandler(notFoundHandler);
  return {
    app,
    async listen() {
      await app.listen({ port: options.port, host: options.host });
      const { address, family, port } = app.server.address() as AddressInfo;
      return `http://${family === "IPv6" ? `[${address}]` : address}:${port}`;
    },
    close: () => app.close(),
  };
}
