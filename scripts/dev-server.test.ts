import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { SERVER_DIR, serverCommand } from "./dev-server.mjs";

// A file in node_modules that the server loads, private to this checkout:
// touching a real dependency's file would touch every checkout sharing
// pnpm's store. NODE_OPTIONS=--import makes the server load it.
const PROBE_DIR = join(SERVER_DIR, "node_modules/.greeter-dev-watch-probe");
const PROBE = join(PROBE_DIR, "probe.mjs");

let child: ChildProcess | undefined;
after(() => {
  if (child?.pid !== undefined) {
    try {
      process.kill(-child.pid, "SIGKILL");
    } catch {}
  }
  rmSync(PROBE_DIR, { recursive: true, force: true });
});

/** Marks a file changed (as an editor or an install does) without changing its bytes. */
function touch(path: string): void {
  const { atime } = statSync(path);
  utimesSync(path, atime, new Date());
}

async function waitFor(predicate: () => boolean, ms: number): Promise<boolean> {
  for (let waited = 0; waited < ms; waited += 50) {
    if (predicate()) return true;
    await sleep(50);
  }
  return predicate();
}

describe("pnpm dev's server watcher", () => {
  it("restarts for the project's sources, not for a file in node_modules", async () => {
    mkdirSync(PROBE_DIR, { recursive: true });
    writeFileSync(PROBE, "// loaded by dev-server.test.ts\n");
    child = spawn(serverCommand(), {
      cwd: SERVER_DIR,
      shell: true,
      detached: true,
      env: { ...process.env, PORT: "0", HOST: "127.0.0.1", WORKERS: "1", NODE_OPTIONS: `--import ${PROBE}` },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout?.on("data", (d: Buffer) => {
      output += d.toString();
    });
    child.stderr?.on("data", (d: Buffer) => {
      output += d.toString();
    });
    const starts = () => output.match(/listening on http/g)?.length ?? 0;
    assert.ok(await waitFor(() => starts() === 1, 60_000), `the server did not start:\n${output}`);

    touch(PROBE);
    await sleep(2_000);
    assert.equal(starts(), 1, `restarted for a file in node_modules:\n${output}`);

    touch(join(SERVER_DIR, "src/main.ts"));
    assert.ok(await waitFor(() => starts() === 2, 60_000), `no restart for src/main.ts:\n${output}`);
  });
});
