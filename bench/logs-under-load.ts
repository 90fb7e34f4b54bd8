import { readFile } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";
import type { BenchCase } from "./cases.js";
import { h2load } from "./h2load.js";
import { startServer } from "./process-stats.js";

/** What the shipped server's log looked like after a long stretch at full load. */
export interface LogsUnderLoad {
  seconds: number;
  callsPerSec: number;
  /** Calls answered during the load, and the log's own counts once it ended. */
  calls: number;
  linesWritten: number;
  linesDropped: number;
  /** Read from /metrics and /proc a second before the load ended, while it was at its height. */
  queuedBytesUnderLoad: number;
  rssMbUnderLoad: number;
  peakRssMb: number;
}

/**
 * Runs a fresh instance of the shipped server under full load for `seconds`
 * (its stdout read by this process, as a log collector reads it), then
 * reads the log's counters in /metrics: whether the backlog stayed bounded
 * and how much of the log was written. See docs/operations.md, "Logs under load".
 */
export async function measureLogsUnderLoad(
  c: BenchCase,
  seconds: number,
  shape: { connections: number; streamsPerConnection: number },
): Promise<LogsUnderLoad> {
  const server = await startServer(c.server);
  try {
    const base = `http://127.0.0.1:${server.port}`;
    await c.verify(base);
    const before = await logCounters(base);
    const load = h2load(c, server.port, { ...shape, requests: 0, durationSec: seconds });
    await sleep((seconds - 1) * 1000);
    const height = await logCounters(base);
    const rssMbUnderLoad = await statusMb(server.pid, "VmRSS");
    const result = await load;
    if (result.failed > 0 || result.ok2xx === 0)
      throw new Error(`${c.label}: ${result.failed} calls failed under load`);
    // Long enough for the last batches (20 ms apart) to be written.
    await sleep(1000);
    const after = await logCounters(base);
    return {
      seconds,
      callsPerSec: result.reqPerSec,
      calls: result.succeeded,
      linesWritten: after.written - before.written,
      linesDropped: after.dropped - before.dropped,
      queuedBytesUnderLoad: height.queued,
      rssMbUnderLoad,
      peakRssMb: await statusMb(server.pid, "VmHWM"),
    };
  } finally {
    await server.stop();
  }
}

async function logCounters(base: string): Promise<{ written: number; dropped: number; queued: number }> {
  const text = await (await fetch(`${base}/metrics`)).text();
  const value = (name: string): number => {
    const m = new RegExp(`^${name} (\\S+)$`, "m").exec(text);
    if (!m) throw new Error(`/metrics has no ${name}`);
    return Number(m[1]);
  };
  return {
    written: value("greeter_log_lines_written_total"),
    dropped: value("greeter_log_lines_dropped_total"),
    queued: value("greeter_log_queued_bytes"),
  };
}

async function statusMb(pid: number, field: "VmRSS" | "VmHWM"): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  return Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? Number.NaN) / 1024;
}
