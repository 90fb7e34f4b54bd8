import { rename, writeFile } from "node:fs/promises";
import type { Registry } from "prom-client";

/**
 * Writes the registry in the Prometheus text format, for node_exporter's
 * textfile collector: a CLI run is over before anything could scrape it.
 * Written beside the target and renamed, so a collector never reads half a file.
 */
export async function writeMetrics(path: string, registry: Registry): Promise<void> {
  const partial = `${path}.${process.pid}.tmp`;
  await writeFile(partial, await registry.metrics());
  await rename(partial, path);
}
