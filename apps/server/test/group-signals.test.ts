import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { after, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { Greeter } from "@greeter/proto/greeter/v1/greeter_pb.js";

// A signal to a whole process group, as systemd's KillMode=control-group,
// `kill -- -PGID` and a terminal's Ctrl-C send it: every process of the
// tree gets it from the kernel, and again from each parent that passes it
// on. It must drain like one signal: a stream in flight gets every message.
const ROOT = fileURLToPath(new URL("../../../", import.meta.url));

const groups = new Set<number>();
after(() => {
  for (const pgid of groups) {
    try {
      process.kill(-pgid, "SIGKILL");
    } catch {}
  }
});

interface Started {
  child: ChildProcess;
  url: string;
  output: () => string;
  exit: Promise<[number | null, NodeJS.Signals | null]>;
}

/** Starts `command` as the leader of a new process group, and waits for the server's URL. */
async function startGroup(command: string, args: string[], env: Record<string, string>): Promise<Started> {
  const child = spawn(command, args, {
    cwd: ROOT,
    detached: true,
    env: { ...process.env, PORT: "0", HOST: "127.0.0.1", LOG_FORMAT: "json", WEB_PORT: "0", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  if (child.pid !== undefined) groups.add(child.pid);
  let output = "";
  child.stdout?.on("data", (d: Buffer) => {
    output += d.toString();
  });
  child.stderr?.on("data", (d: Buffer) => {
    output += d.toString();
  });
  const exit = new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
    child.once("exit", (code, signal) => resolve([code, signal])),
  );
  for (let i = 0; i < 1_200; i++) {
    const match = /listening on (http:\/\/[\d.]+:\d+)/.exec(output);
    if (match?.[1]) return { child, url: match[1], output: () => output, exit };
    if (child.exitCode !== null) break;
    await sleep(50);
  }
  throw new Error(`no server URL:\n${output}`);
}

/** Opens GreetStream (8 greetings, 300 ms apart), signals the group after the second, and reads to the end. */
async function streamThroughGroupSignal(started: Started, signal: NodeJS.Signals): Promise<string[]> {
  const client = createClient(Greeter, createGrpcTransport({ baseUrl: started.url }));
  const greetings: string[] = [];
  for await (const res of client.greetStream({ name: "Ada", count: 8, intervalMs: 300 })) {
    greetings.push(res.greeting);
    if (greetings.length === 2 && started.child.pid !== undefined) process.kill(-started.child.pid, signal);
  }
  return greetings;
}

/** Waits (at most 20 s) until the process group is gone, every process of it. */
async function groupGone(pgid: number): Promise<boolean> {
  for (let i = 0; i < 400; i++) {
    try {
      process.kill(-pgid, 0);
    } catch {
      return true;
    }
    await sleep(50);
  }
  return false;
}

describe("a signal to the whole process group drains like one signal", () => {
  for (const workers of ["1", "2"]) {
    it(`node dist/main.js, WORKERS=${workers}: the stream gets all 8, exit 0`, async () => {
      const started = await startGroup(process.execPath, ["apps/server/dist/main.js"], { WORKERS: workers });
      const greetings = await streamThroughGroupSignal(started, "SIGTERM");
      assert.equal(greetings.length, 8, started.output());
      assert.deepEqual(await started.exit, [0, null], started.output());
      assert.doesNotMatch(started.output(), /again: /);
    });
  }

  it("pnpm start (the cluster, WORKERS=2): the stream gets all 8, and the server exits after its drain", async () => {
    const started = await startGroup("pnpm", ["start"], { WORKERS: "2" });
    const greetings = await streamThroughGroupSignal(started, "SIGTERM");
    assert.equal(greetings.length, 8, started.output());
    // pnpm itself dies of the signal (its own choice); the server under it
    // drains every worker and says so as it exits 0.
    assert.ok(started.child.pid !== undefined && (await groupGone(started.child.pid)), "processes left running");
    assert.match(started.output(), /every worker drained: exiting/);
    assert.doesNotMatch(started.output(), /again: /);
  });

  it("Ctrl-C under pnpm dev: the stream gets all 8, and pnpm dev exits 0", async () => {
    const started = await startGroup("pnpm", ["dev"], {});
    const greetings = await streamThroughGroupSignal(started, "SIGINT");
    assert.equal(greetings.length, 8, started.output());
    assert.deepEqual(await started.exit, [0, null], started.output());
    assert.match(started.output(), /drained: exiting/);
  });
});
