import { collectDefaultMetrics, Registry } from "prom-client";

/** A registry with Node's process metrics (CPU, memory, event loop lag, GC); the RPC metrics join it. */
export function createMetricsRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return registry;
}
