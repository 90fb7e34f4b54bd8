import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

const TEMPLATE = new URL("../../../../deploy/haproxy/haproxy.cfg.template", import.meta.url);

export interface HaproxyOptions {
  frontAddress?: string;
  frontPort: number;
  /** The replicas, as host:port. */
  replicas: readonly string[];
  /** Active health check period: a replica failing two in a row is taken out. @default 500 */
  checkIntervalMs?: number;
}

export interface StartOptions {
  /** HAProxy's log (stderr): shown, piped for the caller to read, or dropped. @default "inherit" */
  output?: "inherit" | "pipe" | "ignore";
}

/** The HAProxy configuration for these replicas, from deploy/haproxy/haproxy.cfg.template. */
export function renderHaproxyConfig(options: HaproxyOptions): string {
  const values: Record<string, string> = {
    FRONT_ADDRESS: options.frontAddress ?? "127.0.0.1",
    FRONT_PORT: String(options.frontPort),
    CHECK_INTERVAL_MS: String(options.checkIntervalMs ?? 500),
    SERVERS: options.replicas.map((address, i) => `    server replica${i + 1} ${address}`).join("\n"),
  };
  return readFileSync(TEMPLATE, "utf8").replace(/\$\{(\w+)\}/g, (_, key: string) => {
    const value = values[key];
    if (value === undefined) throw new Error(`haproxy.cfg.template: no value for \${${key}}`);
    return value;
  });
}

/** Runs HAProxy in the foreground with that configuration; kill the process to stop it. */
export async function startHaproxy(options: HaproxyOptions, start: StartOptions = {}): Promise<ChildProcess> {
  const dir = await mkdtemp(join(tmpdir(), "greeter-haproxy-"));
  const file = join(dir, "haproxy.cfg");
  await writeFile(file, renderHaproxyConfig(options));
  // -db: stay in the foreground, log to stderr; -W: master-worker, so SIGTERM stops it cleanly.
  const output = start.output ?? "inherit";
  return spawn("haproxy", ["-W", "-db", "-f", file], { stdio: ["ignore", output, output] });
}
