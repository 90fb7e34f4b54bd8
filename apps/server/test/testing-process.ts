import type { ChildProcess } from "node:child_process";
import { request } from "node:http";
import { after } from "node:test";
import { listeningUrl, spawnServer } from "./server-process.js";

export { listeningUrl, spawnServer };

// Whatever a test leaves running is killed when its file ends.
const children = new Set<ChildProcess>();
after(() => {
  for (const child of children) child.kill("SIGKILL");
});

/** Starts the real entry point, as `pnpm start` would, and waits for its URL; killed when the test file ends. */
export async function startServerProcess(env: Record<string, string>, args: string[] = []) {
  const child = spawnServer(env, args);
  children.add(child);
  child.once("exit", () => children.delete(child));
  const { url, adminUrl, output } = await listeningUrl(child);
  return { child, url, adminUrl, output };
}

/** One Connect call on a connection of its own, so node:cluster may give it to any worker. */
export function greetOnNewConnection(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${url}/greeter.v1.Greeter/Greet`,
      { method: "POST", agent: false, headers: { "content-type": "application/json" } },
      (res) => {
        res.resume();
        res.once("end", () => resolve(res.statusCode ?? 0));
      },
    );
    req.once("error", reject);
    req.end(JSON.stringify({ name: "Ada" }));
  });
}
