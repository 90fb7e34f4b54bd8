import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

const TEMPLATE = new URL("../../../../deploy/haproxy/haproxy.cfg.template", import.meta.url);

export interface HaproxyOptions {
  frontAddress?: string;
  frontPort: number;
  /** The replicas, as host:port. */
  replicas: readonly string[];
  /** Active health check period: a replica failing one is taken out. @default 500 */
  checkIntervalMs?: number;
}

/** HAProxy's health check period when none is given: short, so a draining replica leaves within half a second. */
export const DEFAULT_CHECK_INTERVAL_MS = 500;

/**
 * The DRAIN_DELAY_MS a replica behind this HAProxy needs: it keeps serving
 * after SIGTERM until HAProxy has taken it out. One check period until the
 * next check sees its 503 (`fall 1`), and as much again three times over
 * for a check that runs late on a loaded machine.
 */
export function replicaDrainDelayMs(checkIntervalMs = DEFAULT_CHECK_INTERVAL_MS): number {
  return 4 * checkIntervalMs;
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
    CHECK_INTERVAL_MS: String(options.checkIntervalMs ?? DEFAULT_CHECK_INTERVAL_MS),
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
  const haproxy = spawn("haproxy", ["-W", "-db", "-f", file], { stdio: ["ignore", output, output] });
  // HAProxy reads its configuration at start (and on a reload, which nothing
  // here asks for): the directory goes with the process, or with this one if
  // it exits first, as `pnpm replicas` and the bench's driver do on a signal.
  // `close` comes after a failed spawn too; the spawn error itself is left to
  // the caller.
  const removeAtExit = (): void => {
    try {
      rmSync(dir, { recursive: true, force: true });
    } catch {
      // Exiting anyway: a leftover directory in tmp is all it costs.
    }
  };
  process.once("exit", removeAtExit);
  haproxy.once("close", () => {
    process.removeListener("exit", removeAtExit);
    rm(dir, { recursive: true, force: true }).catch(() => {});
  });
  return haproxy;
}
