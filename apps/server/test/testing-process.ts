import type { ChildProcess } from "node:child_process";
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
