import { Counter, collectDefaultMetrics, Gauge, Registry } from "prom-client";
import type { LogOutputStats } from "./logging/log-output.js";

/** A registry with Node's process metrics (CPU, memory, event loop lag, GC); the RPC metrics join it. */
export function createMetricsRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return registry;
}

/** The log output's counts, read at scrape time: lines written and dropped, and the bytes waiting. */
export function registerLogOutputMetrics(registry: Registry, stats: Readonly<LogOutputStats>): void {
  const counter = (name: string, help: string, read: () => number) => {
    let reported = 0;
    new Counter({
      name,
      help,
      registers: [registry],
      collect() {
        const now = read();
        this.inc(now - reported);
        reported = now;
      },
    });
  };
  counter("greeter_log_lines_written_total", "Log lines written to stdout.", () => stats.writtenLines);
  counter(
    "greeter_log_lines_dropped_total",
    "Log lines dropped because stdout's reader fell more than the log queue's bound behind.",
    () => stats.droppedLines,
  );
  new Gauge({
    name: "greeter_log_queued_bytes",
    help: "Bytes of log lines waiting for stdout's reader.",
    registers: [registry],
    collect() {
      this.set(stats.queuedBytes);
    },
  });
}

/**
 * The rate limit's setting and refusals, labelled `scope="worker"`: each
 * worker keeps its own buckets (a cluster-wide count would cost every call
 * a round trip to the primary), so with WORKERS=N a client whose
 * connections reach N workers gets up to N times the rate. Returns the
 * function that counts a refusal.
 */
export function registerRateLimitMetrics(registry: Registry, perSecond: number): () => void {
  const scope = { scope: "worker" };
  new Gauge({
    name: "greeter_rate_limit_per_second",
    help: "RATE_LIMIT_PER_SECOND: calls per second each client IP may make to one worker; with WORKERS=N up to N times this in all.",
    labelNames: ["scope"],
    // The setting, the same in every worker: not a sum over them.
    aggregator: "max",
    registers: [registry],
  }).set(scope, perSecond);
  const limited = new Counter({
    name: "greeter_rate_limited_total",
    help: "Calls the rate limit refused with RESOURCE_EXHAUSTED, each worker judging by its own buckets.",
    labelNames: ["scope"],
    registers: [registry],
  }).labels(scope);
  return () => limited.inc();
}
