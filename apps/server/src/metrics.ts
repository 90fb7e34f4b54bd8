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
