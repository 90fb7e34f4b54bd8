import { type ChildProcess, spawn } from "node:child_process";
import { after } from "node:test";
import { fileURLToPath } from "node:url";

const MAIN = fileURLToPath(new URL("../src/main.ts", import.meta.url));
// Whatever a test leaves running is killed when its file ends.
const children = new Set<ChildProcess>();
after(() => {
  for (const child of children) child.kill("SIGKILL");
});

/** Starts the real entry point, as `pnpm start` would, and waits for its URL. */
export async function startServerProcess(env: Record<string, string>, args: string[] = []) {
  const child = spawn(process.execPath, ["--conditions=source", "--import", "tsx", MAIN, ...args], {
    env: { ...process.env, HOST: "127.0.0.1", PORT: "0", WORKERS: "1", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.add(child);
  child.once("exit", () => children.delete(child));
  const { url, output } = await listeningUrl(child);
  return { child, url, output };
}

/**
 * Waits for a server process (piped stdout and stderr) to log the URL it
 * listens on; rejects with everything it said if it exits or is silent 20 s.
 */
export async function listeningUrl(child: ChildProcess): Promise<{ url: string; output: () => string }> {
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
  return { url, output: () => output };
}
