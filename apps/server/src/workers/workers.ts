import cluster, { type Worker } from "node:cluster";
import { availableParallelism } from "node:os";
import type { Logger } from "pino";
import { AggregatorRegistry, type Registry } from "prom-client";
import type { ServerConfig } from "../config.js";
import { onShutdownSignals } from "../shutdown-signals.js";

/** How many processes serve the port: WORKERS, or one per core. */
export function workerCount(config: Pick<ServerConfig, "workers">): number {
  return config.workers ?? availableParallelism();
}

const METRICS_REQUEST = "greeter:metrics-request";
const METRICS_RESPONSE = "greeter:metrics-response";
/** A worker that dies this soon after starting is failing to start, not crashing under load: do not loop. */
const STARTUP_FAILURE_MS = 5_000;
const RESTART_DELAY_MS = 1_000;

interface MetricsRequest {
  type: typeof METRICS_REQUEST;
  id: number;
}
interface MetricsResponse {
  type: typeof METRICS_RESPONSE;
  id: number;
  text?: string;
  error?: string;
}

/**
 * The primary of a cluster: forks the workers (each a whole Greeter server
 * on the shared port; node:cluster hands out connections round-robin),
 * replaces a worker that dies, answers the workers' requests for the
 * cluster's metrics (prom-client's AggregatorRegistry sums every worker's),
 * and on SIGTERM/SIGINT passes the signal to every worker — each drains as a
 * single server does — and exits 0 once all have.
 */
export function runPrimary(config: ServerConfig, log: Logger): void {
  const count = workerCount(config);
  const aggregator = new AggregatorRegistry();
  const started = new Map<Worker, number>();
  let stopping = false;

  const fork = (): void => {
    const worker = cluster.fork();
    started.set(worker, Date.now());
    worker.on("message", (message: MetricsRequest) => {
      if (message?.type !== METRICS_REQUEST) return;
      aggregator.clusterMetrics().then(
        (text) => worker.send({ type: METRICS_RESPONSE, id: message.id, text } satisfies MetricsResponse),
        (e: Error) =>
          worker.send({ type: METRICS_RESPONSE, id: message.id, error: e.message } satisfies MetricsResponse),
      );
    });
  };

  cluster.on("exit", (worker, code, signal) => {
    const since = started.get(worker) ?? 0;
    started.delete(worker);
    if (stopping) {
      if (started.size === 0) {
        log.info("every worker drained: exiting");
        process.exit();
      }
      return;
    }
    if (Date.now() - since < STARTUP_FAILURE_MS && code !== 0) {
      log.fatal({ pid: worker.process.pid, code, signal }, "a worker failed to start; stopping");
      stopping = true;
      for (const w of started.keys()) w.process.kill("SIGTERM");
      process.exitCode = 1;
      if (started.size === 0) process.exit();
      return;
    }
    log.error({ pid: worker.process.pid, code, signal }, `worker died; starting another in ${RESTART_DELAY_MS} ms`);
    setTimeout(fork, RESTART_DELAY_MS);
  });

  onShutdownSignals({
    drain: (signal) => {
      stopping = true;
      log.info(`${signal}: draining ${started.size} workers (up to ${config.shutdownGraceMs} ms)`);
      for (const w of started.keys()) w.process.kill("SIGTERM");
      if (started.size === 0) process.exit();
    },
    now: (signal) => {
      log.warn(`${signal} again: stopping the workers now`);
      for (const w of started.keys()) w.process.kill("SIGKILL");
      process.exit(1);
    },
  });

  log.info(`starting ${count} workers on one port`);
  for (let i = 0; i < count; i++) fork();
}

/**
 * In a worker: the text of /metrics for the whole cluster. prom-client in
 * each worker answers the primary's collection requests from `registry`.
 */
export function clusterMetricsSource(registry: Registry): () => Promise<string> {
  AggregatorRegistry.setRegistries([registry]);
  // prom-client starts answering the primary's requests when an
  // AggregatorRegistry is constructed, in workers too.
  new AggregatorRegistry();
  let nextId = 0;
  const waiting = new Map<number, { resolve: (text: string) => void; reject: (e: Error) => void }>();
  process.on("message", (message: MetricsResponse) => {
    if (message?.type !== METRICS_RESPONSE) return;
    const pending = waiting.get(message.id);
    waiting.delete(message.id);
    if (message.text !== undefined) pending?.resolve(message.text);
    else pending?.reject(new Error(message.error ?? "no metrics from the primary"));
  });
  return () =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      waiting.set(id, { resolve, reject });
      process.send?.({ type: METRICS_REQUEST, id } satisfies MetricsRequest);
    });
}

export const isWorker = (): boolean => cluster.isWorker;
export const isPrimary = (): boolean => cluster.isPrimary;
