import type { FastifyInstance } from "fastify";

/** Where /metrics reads its text: this process's registry, or the whole cluster's. */
export interface MetricsSource {
  /** The exposition format's content type (prom-client's `registry.contentType`). */
  readonly contentType: string;
  text(): Promise<string>;
}

/**
 * GET /healthz: 200 `{"status":"SERVING"}` while `isServing()`, else 503
 * `{"status":"NOT_SERVING"}` (a balancer's HTTP check; 503 from the first
 * moment of a drain).
 */
export function registerHealthz(app: FastifyInstance, isServing: () => boolean): void {
  app.get("/healthz", (_request, reply) => {
    const serving = isServing();
    reply.code(serving ? 200 : 503).send({ status: serving ? "SERVING" : "NOT_SERVING" });
  });
}

/** GET /metrics: the Prometheus text of `source`. */
export function registerMetrics(app: FastifyInstance, source: MetricsSource): void {
  app.get("/metrics", async (_request, reply) => {
    reply.type(source.contentType).send(await source.text());
  });
}
