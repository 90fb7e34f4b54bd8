import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import type { BenchCase } from "./cases.js";

const run = promisify(execFile);

/** The core h2load runs on; servers run on the other one. */
export const LOAD_CPU = "1";

export interface LoadResult {
  reqPerSec: number;
  succeeded: number;
  /** Calls answered 2xx; anything else makes the run invalid. */
  ok2xx: number;
  /** Calls that failed at the HTTP level (errors, timeouts, non-2xx). */
  failed: number;
  /** Bytes received per call (headers + body), as h2load counts them. */
  bytesPerCall: number;
  /** Body bytes per call. */
  dataBytesPerCall: number;
}

/**
 * A fixed number of calls, or (`durationSec`) as many as fit in a time.
 * h2load's duration mode counts warm-up traffic and calls cut off at the
 * end inconsistently, so exact per-call checks need a fixed count; the
 * duration mode is for two loads that must run over the same time.
 */
export interface Load {
  connections: number;
  streamsPerConnection: number;
  requests: number;
  /** Instead of `requests`: run this long, after `warmUpSec` not counted. */
  durationSec?: number;
  warmUpSec?: number;
  logFile?: string;
}

/** Runs h2load pinned to LOAD_CPU and parses its summary. */
export async function h2load(c: BenchCase, port: number, load: Load): Promise<LoadResult> {
  const dir = await mkdtemp(join(tmpdir(), "greeter-bench-"));
  try {
    const args = [
      "-c",
      String(load.connections),
      "-m",
      String(load.streamsPerConnection),
      ...(load.durationSec === undefined
        ? ["-n", String(load.requests)]
        : ["-D", String(load.durationSec), `--warm-up-time=${load.warmUpSec ?? 0}`]),
      ...(load.logFile ? [`--log-file=${load.logFile}`] : []),
      ...(c.http1 ? ["--h1"] : []),
      ...Object.entries(c.request.headers).flatMap(([k, v]) => ["-H", `${k}: ${v}`]),
    ];
    if (c.request.body) {
      const file = join(dir, "body");
      await writeFile(file, c.request.body);
      args.push("-d", file);
    }
    args.push(`http://127.0.0.1:${port}${c.request.path}`);
    const { stdout } = await run("taskset", ["-c", LOAD_CPU, "h2load", ...args], { maxBuffer: 16 * 1024 * 1024 });
    return parseH2load(stdout);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** What h2load printed, read into numbers. */
export function parseH2load(out: string): LoadResult {
  const num = (re: RegExp): number => {
    const m = re.exec(out);
    if (!m?.[1]) throw new Error(`h2load output lacks ${re}:\n${out}`);
    return Number(m[1]);
  };
  const succeeded = num(/requests: .*?(\d+) succeeded/);
  return {
    // A single call (the probe before the timed runs) can finish within a millisecond: "946us".
    reqPerSec: num(/finished in [\d.]+(?:us|ms|s), ([\d.]+) req\/s/),
    succeeded,
    ok2xx: num(/status codes: (\d+) 2xx/),
    failed: num(/(\d+) failed/) + num(/(\d+) errored/) + num(/(\d+) timeout/),
    bytesPerCall: num(/traffic: .*?\((\d+)\) total/) / Math.max(1, succeeded),
    dataBytesPerCall: num(/, [\d.]+[KMG]?B \((\d+)\) data/) / Math.max(1, succeeded),
  };
}

/** p50 and p99 latency in milliseconds from an h2load --log-file. */
export async function latencyPercentiles(logFile: string): Promise<{ p50: number; p99: number }> {
  const micros = (await readFile(logFile, "utf8"))
    .trim()
    .split("\n")
    .map((line) => Number(line.split("\t")[2]))
    .filter((n) => Number.isFinite(n))
    .sort((a, b) => a - b);
  const at = (q: number): number => (micros[Math.min(micros.length - 1, Math.floor(q * micros.length))] ?? NaN) / 1000;
  return { p50: at(0.5), p99: at(0.99) };
}
