import cluster, { type Worker } from "node:cluster";
import { availableParallelism } from "node:os";
import type { FastifyBaseLogger } from "fastify";
import type { Logger } from "pino";
import { AggregatorRegistry, Counter, Registry } from "prom-client";
import { type AdminServer, createAdminServer } from "../admin/admin-server.js";
import type { MetricsSource } from "../admin/observability-routes.js";
import type { ServerConfig } from "../config.js";
import { onShutdownSignals } from "../shutdown-signals.js";
import { createRestartBackoff } from "./restart-backoff.js";

/** How many processes serve the port: WORKERS, or one per core. */
export function workerCount(config: Pick<ServerConfig, "workers">): number {
  return config.workers ?? availableParallelism();
}

const METRICS_REQUEST = "greeter:metrics-request";
const METRICS_RESPONSE = "greeter:metrics-response";
const FATAL_STARTUP = "greeter:fatal-startup";

/** How long the primary waits for its admin listener to close before it exits anyway. */
const ADMIN_CLOSE_TIMEOUT_MS = 1_000;

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
interface FatalStartup {
  type: typeof FATAL_STARTUP;
  message: string;
}
type WorkerMessage = MetricsRequest | FatalStartup;

/**
 * The primary of a cluster: forks the workers (each a whole Greeter server
 * on the shared port; node:cluster hands out connections round-robin),
 * replaces a worker that dies, answers the workers' requests for the
 * cluster's metrics (prom-client's AggregatorRegistry sums every worker's,
 * and the primary adds its own, `greeter_worker_restarts_total`), and on
 * SIGTERM/SIGINT passes the signal to every worker — each drains as a
 * single server does — and exits 0 once all have.
 *
 * A dead worker is replaced after a growing delay (see
 * {@link createRestartBackoff}) while the others go on serving: a crash
 * loop, one bad input killing worker after worker, costs capacity, never
 * the port. The primary stops (exit 1, one fatal line) only for a fault
 * that would fail every worker alike, with no worker listening: a worker
 * reports that it could not start (a port it cannot bind, a file it cannot
 * read), or as many workers in a row as the cluster has exit with an error
 * before listening (a module that fails to load).
 *
 * With ADMIN_PORT the primary holds the admin listener, the one place the
 * cluster's summed metrics are served (a worker's would be one of N
 * listeners on a port only one can bind), with a /healthz that is SERVING
 * while a worker listens and the cluster is not stopping. It listens
 * before any worker starts, and a port it cannot bind stops the primary
 * (exit 1); it closes once every worker has drained.
 */
export async function runPrimary(config: ServerConfig, log: Logger, backoff = createRestartBackoff()): Promise<void> {
  const count = workerCount(config);
  const aggregator = new AggregatorRegistry();
  const own = new Registry();
  const restarts = new Counter({
    name: "greeter_worker_restarts_total",
    help: "Workers the cluster's primary replaced after they died (crashed, were killed, or exited on their own).",
    registers: [own],
  });
  const started = new Map<Worker, number>();
  const listening = new Set<Worker>();
  let startFailures = 0;
  let stopping = false;

  const stop = (reason: string): void => {
    log.fatal(`${reason}; stopping`);
    stopping = true;
    process.exitCode = 1;
    for (const w of started.keys()) w.process.kill("SIGTERM");
    if (started.size === 0) exit();
  };

  const clusterMetrics = async (): Promise<string> => {
    const [workers, primary] = await Promise.all([aggregator.clusterMetrics(), own.metrics()]);
    return `${workers.endsWith("\n") || workers === "" ? workers : `${workers}\n`}${primary}`;
  };

  const admin = await listenAdmin(config, log, {
    metrics: { contentType: aggregator.contentType, text: clusterMetrics },
    isServing: () => !stopping && listening.size > 0,
  });
  // Every way out but "stop now" closes the admin listener first, once.
  let exiting = false;
  const exit = (): void => {
    if (!admin) process.exit();
    if (exiting) return;
    exiting = true;
    const timer = setTimeout(() => process.exit(), ADMIN_CLOSE_TIMEOUT_MS);
    admin.close().then(
      () => process.exit(),
      (e: unknown) => {
        log.error(e, "the admin port did not close");
        process.exit();
      },
    );
    timer.unref();
  };

  const fork = (): void => {
    if (stopping) return;
    const worker = cluster.fork();
    started.set(worker, Date.now());
    worker.on("listening", () => {
      listening.add(worker);
      startFailures = 0;
    });
    worker.on("message", (message: WorkerMessage) => {
      if (message?.type === FATAL_STARTUP) {
        const reason = `worker ${worker.process.pid} cannot start: ${message.message}`;
        // With workers serving, the configuration and the port are fine: a
        // failure of one new worker (out of file descriptors, say) is
        // replaced like a crash when it exits, not a reason to stop them.
        if (listening.size > 0) log.error(reason);
        else if (!stopping) stop(reason);
        return;
      }
      if (message?.type !== METRICS_REQUEST) return;
      clusterMetrics().then(
        (text) => worker.send({ type: METRICS_RESPONSE, id: message.id, text } satisfies MetricsResponse),
        (e: Error) =>
          worker.send({ type: METRICS_RESPONSE, id: message.id, error: e.message } satisfies MetricsResponse),
      );
    });
  };

  cluster.on("exit", (worker, code, signal) => {
    const livedMs = Date.now() - (started.get(worker) ?? Date.now());
    const listened = listening.delete(worker);
    started.delete(worker);
    if (stopping) {
      if (started.size === 0) {
        log.info("every worker drained: exiting");
        exit();
      }
      return;
    }
    // Killed by a signal (the kernel's OOM killer, a person) says nothing
    // about the start-up; an error exit before listening does.
    if (!listened && signal === null && code !== 0) startFailures++;
    if (startFailures >= count && listening.size === 0) {
      stop(`${startFailures} workers in a row exited with an error before listening (the last: code ${code})`);
      return;
    }
    const delayMs = backoff.next(livedMs);
    restarts.inc();
    log.error(
      { worker: worker.process.pid, code, signal, livedMs, delayMs },
      `worker died (${signal ?? `exit code ${code}`}); starting another in ${delayMs} ms`,
    );
    setTimeout(fork, delayMs);
  });

  onShutdownSignals({
    drain: (signal) => {
      stopping = true;
      log.info(`${signal}: draining ${started.size} workers (up to ${config.shutdownGraceMs} ms)`);
      for (const w of started.keys()) w.process.kill("SIGTERM");
      if (started.size === 0) exit();
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
 * The primary's admin listener, listening, or undefined without ADMIN_PORT.
 * A port it cannot bind is fatal: exit 1 before any worker starts.
 */
async function listenAdmin(
  config: ServerConfig,
  log: Logger,
  serve: { metrics: MetricsSource; isServing: () => boolean },
): Promise<AdminServer | undefined> {
  if (config.adminPort === undefined) return undefined;
  const admin = createAdminServer({
    port: config.adminPort,
    host: config.adminHost,
    metrics: config.interceptors.includes("metrics") ? serve.metrics : undefined,
    isServing: serve.isServing,
    logger: log as FastifyBaseLogger,
  });
  try {
    log.info(`admin port listening on ${await admin.listen()}: /metrics, /healthz for the whole cluster`);
  } catch (e) {
    log.fatal(`the admin port cannot listen: ${(e as Error).message}; stopping`);
    process.exit(1);
  }
  return admin;
}

/**
 * In a worker that could not start (the port cannot be bound, a file cannot
 * be read): tells the primary, which stops the cluster instead of starting
 * worker after worker into the same error, then exits 1.
 */
export function reportFatalStartup(error: unknown): void {
  const message = error instanceof Error ? error.message : String(error);
  process.exitCode = 1;
  if (!process.send) process.exit();
  // Exit once the message is handed to the channel (or it failed to be).
  process.send({ type: FATAL_STARTUP, message } satisfies FatalStartup, () => process.exit());
}

/**
 * In a worker: lets the primary's AggregatorRegistry collect `registry`,
 * for its admin port or for the workers' own /metrics.
 */
export function answerClusterMetrics(registry: Registry): void {
  AggregatorRegistry.setRegistries([registry]);
  // prom-client starts answering the primary's requests when an
  // AggregatorRegistry is constructed, in workers too.
  new AggregatorRegistry();
}

/**
 * In a worker: the text of /metrics for the whole cluster, asked of the
 * primary, which sums what every worker's `registry` holds.
 */
export function clusterMetricsSource(registry: Registry): () => Promise<string> {
  answerClusterMetrics(registry);
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
