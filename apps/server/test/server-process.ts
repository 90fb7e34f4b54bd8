import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

// The server's real entry point as a child process, for tests
// (testing-process.ts kills what a test file leaves) and scripts.

const MAIN = fileURLToPath(new URL("../src/main.ts", import.meta.url));

/** The real entry point on a free loopback port, one worker (for scripts outside the test runner too). */
export function spawnServer(env: Record<string, string>, args: string[] = []): ChildProcess {
  return spawn(process.execPath, ["--conditions=source", "--import", "tsx", MAIN, ...args], {
    env: { ...process.env, HOST: "127.0.0.1", PORT: "0", ADMIN_HOST: "127.0.0.1", WORKERS: "1", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
}

/** What a server process said it listens on. */
export interface Listening {
  url: string;
  /** The admin port's base URL, when ADMIN_PORT is set (the primary's, in a cluster). */
  adminUrl: string | undefined;
  output: () => string;
}

/**
 * Waits for a server process (piped stdout and stderr) to log the URL it
 * listens on; rejects with everything it said if it exits or is silent 20 s.
 * The admin port, if any, is logged before it (the primary's, or the
 * server's, listens first).
 */
export async function listeningUrl(child: ChildProcess): Promise<Listening> {
  let output = "";
  child.stdout?.setEncoding("utf8");
  child.stderr?.setEncoding("utf8");
  child.stderr?.on("data", (d: string) => {
    output += d;
  });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no URL within 20 s:\n${output}`)), 20_000);
    child.stdout?.on("data", (d: string) => {
      output += d;
      const match = /Greeter listening on (http:\/\/[\d.]+:\d+)/.exec(output);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${code}:\n${output}`));
    });
  });
  const adminUrl = /admin port listening on (http:\/\/[\d.]+:\d+)/.exec(output)?.[1];
  return { url, adminUrl, output: () => output };
}
