import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** What a Schemathesis run reported. */
export interface SchemathesisResult {
  /** Its exit code: 0 when no check failed. */
  code: number;
  /** Test cases generated, and of them passed. */
  generated: number;
  passed: number;
  /** Everything it printed, failures and how to reproduce them first. */
  output: string;
}

const CONFIG = join(import.meta.dirname, "schemathesis.toml");

/**
 * Runs Schemathesis (from PATH, as setup installs it) against the server at
 * `baseUrl`, from its /openapi.json: `examples` test cases per operation
 * and phase, with a fixed seed so a failure reproduces. It runs in a
 * scratch directory, where it keeps its cache.
 */
export async function runSchemathesis(baseUrl: string, examples: number, seed: number): Promise<SchemathesisResult> {
  const scratch = await mkdtemp(join(tmpdir(), "schemathesis-"));
  const args = [
    "--no-color",
    "--config-file",
    CONFIG,
    "run",
    `${baseUrl}/openapi.json`,
    "--max-examples",
    String(examples),
    "--seed",
    String(seed),
    "--workers",
    "1",
    "--request-timeout",
    "10",
  ];
  try {
    const { code, output } = await new Promise<{ code: number; output: string }>((resolve, reject) => {
      execFile("schemathesis", args, { cwd: scratch, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
        if (error && typeof error.code !== "number") reject(error);
        else resolve({ code: error ? Number(error.code) : 0, output: stdout + stderr });
      });
    });
    // Its summary line: "248 generated, 248 passed", or "61 generated, 3 found 3 unique failures".
    const totals = /(\d+) generated, (?:(\d+) passed)?/.exec(output);
    const generated = Number(totals?.[1] ?? 0);
    const passed = Number(totals?.[2] ?? 0);
    return { code, generated, passed, output };
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}
