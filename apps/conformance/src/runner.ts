import { spawn } from "node:child_process";
import { join } from "node:path";

/** What one run of the conformance runner reported. */
export interface ConformanceResult {
  /** FAST_PATH's value for the server under test. */
  fastPath: boolean;
  total: number;
  passed: number;
  failed: number;
  /** Everything the runner printed: the failures' details, then its totals. */
  output: string;
}

const appRoot = join(import.meta.dirname, "..");

/**
 * Runs `connectconformance --mode server` (from PATH, as setup installs it)
 * with conformance.yaml against src/server-main.ts, with the fast path on or
 * off, and resolves to the runner's totals.
 */
export function runConformance(fastPath: boolean): Promise<ConformanceResult> {
  const server = [process.execPath, "--conditions=source", "--import", "tsx", join(appRoot, "src/server-main.ts")];
  const runner = spawn("connectconformance", ["--mode", "server", "--conf", "conformance.yaml", "--", ...server], {
    cwd: appRoot,
    env: { ...process.env, FAST_PATH: String(fastPath) },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  runner.stdout.setEncoding("utf8").on("data", (text: string) => {
    output += text;
  });
  runner.stderr.setEncoding("utf8").on("data", (text: string) => {
    output += text;
  });
  return new Promise((resolve, reject) => {
    runner.once("error", reject);
    runner.once("close", () => {
      const totals = /Total cases: (\d+)\n(\d+) passed, (\d+) failed/.exec(output);
      if (!totals) {
        reject(new Error(`connectconformance printed no totals:\n${output}`));
        return;
      }
      const [, total, passed, failed] = totals.map(Number) as [number, number, number, number];
      resolve({ fastPath, total, passed, failed, output });
    });
  });
}
