import { type ChildProcess, spawn } from "node:child_process";
import { readFile } from "node:fs/promises";
import type { ServerSpec } from "./cases.js";

/** The core servers run on (h2load gets the other). */
export const SERVER_CPU = "0";

const CLOCK_TICKS_PER_SEC = 100; // USER_HZ on Linux

export interface RunningServer {
  pid: number;
  port: number;
  stop(): Promise<void>;
}

/** Starts a server pinned to SERVER_CPU and waits for it to print its port. */
export async function startServer(spec: ServerSpec): Promise<RunningServer> {
  const [command, ...args] = spec.command;
  if (!command) throw new Error("empty server command");
  const child: ChildProcess = spawn("taskset", ["-c", spec.cpus ?? SERVER_CPU, command, ...args], {
    env: { ...process.env, ...spec.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  let onData: (d: Buffer) => void = () => {};
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no port within 30 s from ${spec.command.join(" ")}:\n${output}`)),
      30_000,
    );
    onData = (d: Buffer): void => {
      output += d.toString();
      const m = /PORT (\d+)|listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(output);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1] ?? m[2]));
      }
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`${spec.command.join(" ")} exited with ${code}:\n${output}`));
    });
  });
  // From here on the output is only drained, so a chatty server never
  // blocks on a full pipe. Still collecting it (and searching all of it
  // again for the port on every chunk) cost the bench process CPU that grew
  // with every log line, taken from h2load's core or the server's: it made
  // a server that logs each call look slower than it is.
  child.stdout?.off("data", onData);
  child.stderr?.off("data", onData);
  child.stdout?.resume();
  child.stderr?.resume();
  const pid = child.pid ?? 0;
  return {
    pid,
    port,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once("exit", resolve));
      // The whole tree: a cluster's workers, the replicas and HAProxy of a balancer row.
      const tree = await processTree(pid);
      for (const p of tree.reverse()) {
        try {
          process.kill(p, "SIGKILL");
        } catch {
          // Already gone.
        }
      }
      await exited;
    },
  };
}

/** A process and all its descendants (a cluster's workers), from /proc. */
async function processTree(pid: number): Promise<number[]> {
  const children = await readFile(`/proc/${pid}/task/${pid}/children`, "utf8").catch(() => "");
  const nested = await Promise.all(
    children
      .split(" ")
      .filter(Boolean)
      .map((c) => processTree(Number(c))),
  );
  return [pid, ...nested.flat()];
}

/** CPU time a process and its descendants have used so far, in microseconds (user + system). */
export async function cpuMicros(pid: number): Promise<number> {
  let ticks = 0;
  for (const p of await processTree(pid)) {
    const stat = await readFile(`/proc/${p}/stat`, "utf8");
    // Fields after the ")" that ends the command name; utime and stime are 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    ticks += Number(fields[11]) + Number(fields[12]);
  }
  return (ticks * 1_000_000) / CLOCK_TICKS_PER_SEC;
}

/** The peak resident set size of a process and its descendants together, in MB. */
export async function peakRssMb(pid: number): Promise<number> {
  let kb = 0;
  for (const p of await processTree(pid)) {
    const status = await readFile(`/proc/${p}/status`, "utf8");
    kb += Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? Number.NaN);
  }
  return kb / 1024;
}
