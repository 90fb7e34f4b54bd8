import assert from "node:assert/strict";
import { once } from "node:events";
import { request } from "node:http";
import { createServer } from "node:net";
import { describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { freePort } from "./testing.js";
import { startServerProcess } from "./testing-process.js";

// Issue #29: a worker killed again and again (an out-of-memory kill, one
// bad input crashing each worker in turn) must cost capacity, never the
// port; only a fault that fails every worker alike stops the cluster.

/** One Connect Greet on a connection of its own, so node:cluster may hand it to any worker. */
function greetOnNewConnection(url: string): Promise<string> {
  return new Promise((resolve) => {
    const req = request(
      `${url}/greeter.v1.Greeter/Greet`,
      { method: "POST", agent: false, headers: { "content-type": "application/json" }, timeout: 5_000 },
      (res) => {
        let body = "";
        res.setEncoding("utf8").on("data", (d: string) => {
          body += d;
        });
        res.once("end", () => resolve(res.statusCode === 200 ? "ok" : `HTTP ${res.statusCode}: ${body}`));
      },
    );
    req.once("timeout", () => req.destroy(new Error("no answer in 5 s")));
    req.once("error", (e) => resolve(e.message));
    req.end(JSON.stringify({ name: "Ada" }));
  });
}

interface LogLine {
  msg: string;
  pid: number;
  worker?: number;
  delayMs?: number;
}

function logLines(output: string): LogLine[] {
  return output
    .split("\n")
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line) as LogLine);
}

const listeningPids = (output: string) =>
  logLines(output)
    .filter((l) => l.msg.startsWith("Greeter listening"))
    .map((l) => l.pid);

describe("WORKERS=2: a worker killed over and over", () => {
  it("is replaced with a growing delay while the other worker keeps answering every call", async () => {
    const { child, url, output } = await startServerProcess({ WORKERS: "2", LOG_LEVEL: "info" });
    try {
      const results: string[] = [];
      /** Calls Greet one after another, each on a new connection, until `done()` (at most 30 s). */
      const probeUntil = async (done: () => boolean) => {
        for (let i = 0; i < 600 && !done(); i++) {
          results.push(`${Date.now()} ${await greetOnNewConnection(url)}`);
          await sleep(50);
        }
        assert.ok(done(), `gave up waiting:\n${output()}`);
      };

      await probeUntil(() => listeningPids(output()).length >= 2);
      const [survivor, first] = listeningPids(output());
      assert.ok(survivor !== undefined && first !== undefined);
      let victim = first;
      const kills = 4;
      for (let k = 1; k <= kills; k++) {
        // Killed as soon as it listens: the replacement's crash is part of
        // the loop, as an out-of-memory kill right after start-up would be.
        process.kill(victim, "SIGKILL");
        const dead = victim;
        // No call until the primary has seen the death: node:cluster hands a
        // connection accepted in that instant to the dead worker, and it
        // hangs (a call "already on it", which no primary can save).
        for (let i = 0; i < 200 && !logLines(output()).some((l) => l.worker === dead); i++) await sleep(10);
        if (k === kills) break;
        await probeUntil(() => listeningPids(output()).length >= 2 + k);
        const next = listeningPids(output()).at(-1);
        assert.ok(next !== undefined && next !== survivor);
        victim = next;
      }
      await probeUntil(() => results.length >= 20);

      const failures = results.filter((r) => !r.endsWith(" ok"));
      assert.deepEqual(failures, [], `${failures.length} of ${results.length} calls failed:\n${output()}`);
      const delays = logLines(output())
        .filter((l) => l.msg.startsWith("worker died"))
        .map((l) => l.delayMs);
      assert.deepEqual(delays, [500, 1_000, 2_000, 4_000], "each replacement waits twice as long");
      process.kill(survivor, 0); // still the same process, never restarted

      const metrics = await (await fetch(`${url}/metrics`)).text();
      assert.match(metrics, /^greeter_worker_restarts_total 4$/m);

      child.kill("SIGTERM");
      const [code] = (await once(child, "exit")) as [number | null];
      assert.equal(code, 0, output());
    } finally {
      child.kill("SIGKILL");
    }
  });

  it("stops the cluster, in one line, when a worker cannot bind the port", async () => {
    const port = await freePort();
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(port, "127.0.0.1", resolve));
    try {
      await assert.rejects(startServerProcess({ WORKERS: "2", PORT: String(port) }), (e: Error) => {
        const fatal = logLines(e.message).filter((l) => l.msg.endsWith("; stopping"));
        assert.equal(fatal.length, 1, e.message);
        assert.match(fatal[0]?.msg ?? "", /^worker \d+ cannot start: .*EADDRINUSE.*; stopping$/);
        assert.match(e.message, /^exited with 1:/);
        assert.doesNotMatch(e.message, /starting another/);
        return true;
      });
    } finally {
      taken.close();
    }
  });
});
