import assert from "node:assert/strict";
import { type ChildProcess, spawnSync } from "node:child_process";
import { once } from "node:events";
import { existsSync } from "node:fs";
import { dirname } from "node:path";
import { after, before, describe, it } from "node:test";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { createRetryInterceptor } from "@greeter/interceptors";
import { Greeter } from "@greeter/proto/greeter/v1/greeter_pb.js";
import { freePort } from "../../test/testing.js";
import { startServerProcess } from "../../test/testing-process.js";
import { renderHaproxyConfig, replicaDrainDelayMs, startHaproxy } from "./haproxy.js";

/** Greet calls a replica has answered OK, from its own /metrics, on its admin port. */
async function greetsServed(adminUrl: string | undefined): Promise<number> {
  const text = await (await fetch(`${adminUrl}/metrics`)).text();
  const match = /^grpc_server_handled_total\{[^}]*grpc_method="Greet"[^}]*grpc_code="OK"\} (\d+)$/m.exec(text);
  return Number(match?.[1] ?? 0);
}

interface Failure {
  /** When the call was made, from performance.now(). */
  startedAt: number;
  message: string;
}

/**
 * Greet calls from 8 callers at once through `url` until `stop()`: a mixed
 * load, as in issue #29, 6 of them over one gRPC HTTP/2 connection and 2
 * with Connect JSON over HTTP/1.1. With `retries`, each call is retried as
 * the CLI would (retry interceptor); without, every failure the balancer
 * lets through reaches the count.
 */
function steadyLoad(url: string, { retries }: { retries: boolean }) {
  const interceptors = retries ? [createRetryInterceptor({ maxAttempts: 5 })] : [];
  const grpc = createClient(Greeter, createGrpcTransport({ baseUrl: url, interceptors }));
  const connect = createClient(Greeter, createConnectTransport({ baseUrl: url, httpVersion: "1.1", interceptors }));
  const failures: Failure[] = [];
  let ok = 0;
  let inFlight = 0;
  let stopped = false;
  const worker = async (client: typeof grpc) => {
    for (let i = 0; i < 20_000 && !stopped; i++) {
      const startedAt = performance.now();
      inFlight++;
      try {
        if ((await client.greet({ name: "Ada" }, { timeoutMs: 5_000 })).greeting === "Hello, Ada!") ok++;
      } catch (e) {
        failures.push({ startedAt, message: (e as Error).message });
      } finally {
        inFlight--;
      }
    }
  };
  const running = Promise.all(Array.from({ length: 8 }, (_, i) => worker(i < 6 ? grpc : connect)));
  return {
    /** Calls sent and not yet answered. */
    inFlight: () => inFlight,
    async stop(): Promise<{ ok: number; failures: Failure[] }> {
      stopped = true;
      await running;
      return { ok, failures };
    },
  };
}

/**
 * A replica as `pnpm replicas` starts one: it serves on after SIGTERM until
 * HAProxy has taken it out, and its /metrics is on an admin port of its own.
 */
const startReplica = (env: Record<string, string> = {}) =>
  startServerProcess({ LOG_LEVEL: "info", DRAIN_DELAY_MS: String(replicaDrainDelayMs()), ADMIN_PORT: "0", ...env });

describe("HAProxy in front of 3 replicas (deploy/haproxy)", () => {
  let replicas: Awaited<ReturnType<typeof startServerProcess>>[] = [];
  let haproxy: Awaited<ReturnType<typeof startHaproxy>> | undefined;
  let front = "";
  let haproxyLog = "";

  before(async () => {
    replicas = await Promise.all([1, 2, 3].map(() => startReplica()));
    const frontPort = await freePort();
    haproxy = await startHaproxy({ frontPort, replicas: replicas.map((r) => new URL(r.url).host) }, { output: "pipe" });
    haproxy.stderr?.setEncoding("utf8").on("data", (d: string) => {
      haproxyLog += d;
    });
    front = `http://127.0.0.1:${frontPort}`;
    for (let i = 0; i < 100; i++) {
      const ok = await fetch(`${front}/healthz`).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error("HAProxy did not answer /healthz");
  });
  after(async () => {
    haproxy?.kill("SIGTERM");
    if (haproxy && haproxy.exitCode === null) await once(haproxy, "exit");
    for (const r of replicas) r.child.kill("SIGTERM");
  });

  it("renders one server line per replica, with HTTP/2 to the backends and health checks", () => {
    const config = renderHaproxyConfig({ frontPort: 8080, replicas: ["10.0.0.1:50051", "10.0.0.2:50051"] });
    assert.match(config, /^ {4}server replica1 10\.0\.0\.1:50051$/m);
    assert.match(config, /^ {4}server replica2 10\.0\.0\.2:50051$/m);
    assert.match(config, /default-server proto h2 check inter 500ms fall 1 rise 1/);
    assert.match(config, /^ {4}retry-on conn-failure empty-response$/m);
    assert.match(config, /^ {4}http-request disable-l7-retry unless METH_GET$/m);
    assert.match(config, /^ {4}option redispatch 1$/m);
    assert.match(config, /http-check send meth GET uri \/healthz/);
    assert.doesNotMatch(config, /\$\{/);
  });

  it("spreads 3,000 calls over ONE HTTP/2 connection across all 3 replicas within ±20%", async () => {
    const before = await Promise.all(replicas.map((r) => greetsServed(r.adminUrl)));
    // connect-node keeps one HTTP/2 session per transport: every call shares it.
    const client = createClient(Greeter, createGrpcTransport({ baseUrl: front }));
    let next = 0;
    const worker = async () => {
      while (next < 3_000) {
        next++;
        assert.equal((await client.greet({ name: "Ada" })).greeting, "Hello, Ada!");
      }
    };
    await Promise.all(Array.from({ length: 10 }, worker));
    const after = await Promise.all(replicas.map((r) => greetsServed(r.adminUrl)));
    const served = after.map((n, i) => n - (before[i] ?? 0));
    assert.equal(
      served.reduce((a, b) => a + b, 0),
      3_000,
    );
    for (const n of served) assert.ok(n >= 800 && n <= 1_200, `calls per replica: ${served.join(", ")}`);
  });

  it("answers /metrics at the front 404: each replica serves it on its admin port, which HAProxy never sends to", async () => {
    for (let i = 0; i < replicas.length; i++) {
      const metrics = await fetch(`${front}/metrics`);
      assert.equal(metrics.status, 404);
      assert.equal(((await metrics.json()) as { code: string }).code, "unimplemented");
    }
    for (const r of replicas) assert.equal((await fetch(`${r.adminUrl}/metrics`)).status, 200);
  });

  it("serves Connect JSON and gRPC-Web over HTTP/1.1 through the same front port", async () => {
    const json = await fetch(`${front}/greeter.v1.Greeter/Greet`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name: "Ada" }),
    });
    assert.deepEqual(await json.json(), { greeting: "Hello, Ada!", language: "en" });
    const web = await fetch(`${front}/greeter.v1.Greeter/Greet`, {
      method: "POST",
      headers: { "content-type": "application/grpc-web+proto", "x-grpc-web": "1" },
      body: Buffer.from([0, 0, 0, 0, 5, 0x0a, 3, 0x41, 0x64, 0x61]),
    });
    const body = Buffer.from(await web.arrayBuffer());
    assert.match(body.toString("latin1"), /Hello, Ada!/);
    assert.match(body.toString("latin1"), /grpc-status: ?0/);
  });

  it("passes a bidirectional Chat through as it goes: retry-on's request buffer holds nothing back", async () => {
    const client = createClient(Greeter, createGrpcTransport({ baseUrl: front }));
    let answered: () => void = () => {};
    const firstAnswer = new Promise<void>((resolve) => {
      answered = resolve;
    });
    // The second message waits for the first answer: a balancer that held
    // the request stream back until its end would never answer.
    async function* messages() {
      yield { name: "Ada", message: "hi" };
      await firstAnswer;
      yield { name: "Ada", message: "still there?" };
    }
    const replies: string[] = [];
    for await (const res of client.chat(messages(), { timeoutMs: 5_000 })) {
      replies.push(res.reply);
      answered();
    }
    assert.deepEqual(replies, ['Hello, Ada! You said: "hi".', 'Hello, Ada! You said: "still there?".']);
  });

  it("loses no call when one replica is SIGTERMed under mixed load, with no retries in the client", async () => {
    const load = steadyLoad(front, { retries: false });
    await new Promise((r) => setTimeout(r, 500));
    const victim = replicas[0];
    assert.ok(victim);
    victim.child.kill("SIGTERM");
    const [code] = (await once(victim.child, "exit")) as [number | null];
    await new Promise((r) => setTimeout(r, 500));
    const { ok, failures } = await load.stop();
    assert.equal(code, 0, "the replica drained and exited cleanly");
    assert.match(haproxyLog, /Server replicas\/replica1 is DOWN/);
    assert.deepEqual(failures, [], `${failures.length} of ${ok + failures.length} calls failed`);
    assert.ok(ok > 100, `only ${ok} calls went through`);
    // Three again for the tests after this one, once HAProxy's check has seen it (rise 1).
    replicas[0] = await startReplica({ PORT: new URL(victim.url).port });
    for (let i = 0; i < 50 && !/Server replicas\/replica1 is UP/.test(haproxyLog); i++) {
      await new Promise((r) => setTimeout(r, 100));
    }
  });

  it("rolls a restart through all 3 replicas under load (SIGTERM, wait healthy, next) with zero failed calls", async () => {
    const load = steadyLoad(front, { retries: false });
    for (let i = 0; i < replicas.length; i++) {
      const old = replicas[i];
      assert.ok(old);
      const port = new URL(old.url).port;
      old.child.kill("SIGTERM");
      await once(old.child, "exit");
      const fresh = await startReplica({ PORT: port, SHUTDOWN_GRACE_MS: "2000" });
      replicas[i] = fresh;
      // Back in HAProxy's rotation once a check passes (rise 1, every 500 ms).
      await new Promise((r) => setTimeout(r, 1_000));
    }
    const { ok, failures } = await load.stop();
    assert.deepEqual(failures, [], `${failures.length} of ${ok + failures.length} calls failed`);
    assert.ok(ok > 100, `only ${ok} calls went through`);
  });

  // Last: it takes a replica away for good.
  it("loses only the calls already on a replica SIGKILLed mid-load, with no client retries, and marks it down", async () => {
    const load = steadyLoad(front, { retries: false });
    await new Promise((r) => setTimeout(r, 500));
    const victim = replicas[2];
    assert.ok(victim);
    const exited = once(victim.child, "exit").then(() => performance.now());
    victim.child.kill("SIGKILL");
    // The kernel closes the replica's sockets as the process ends: what
    // HAProxy had written to them until then was on the replica.
    const goneAt = await exited;
    for (let i = 0; i < 50 && !/replica3 is DOWN/.test(haproxyLog); i++) await new Promise((r) => setTimeout(r, 100));
    await new Promise((r) => setTimeout(r, 500));
    const { ok, failures } = await load.stop();
    assert.match(haproxyLog, /Server replicas\/replica3 is DOWN/);
    // Calls made after it was gone went to the other replicas: a refused
    // connection is retried elsewhere, and the replica is out at once.
    const late = failures
      .filter((f) => f.startedAt > goneAt)
      .map((f) => `+${(f.startedAt - goneAt).toFixed(1)} ms: ${f.message}`);
    assert.deepEqual(
      late,
      [],
      `${late.length} of ${failures.length} failed calls were made after the replica was gone`,
    );
    assert.ok(ok > 100, `only ${ok} calls went through`);
  });
});

/** HAProxy's configuration file, from the command line it was started with. */
const configOf = (haproxy: ChildProcess): string => haproxy.spawnargs[haproxy.spawnargs.indexOf("-f") + 1] ?? "";

/** Waits (bounded) for a path to go: its removal is asynchronous. */
async function gone(path: string): Promise<boolean> {
  for (let i = 0; i < 50 && existsSync(path); i++) await new Promise((r) => setTimeout(r, 20));
  return !existsSync(path);
}

/** Runs an ES module script under tsx in a child process, to its end (a short one: it blocks). */
function runScript(script: string): { code: number | null; out: string; err: string } {
  const child = spawnSync(
    process.execPath,
    ["--conditions=source", "--import", "tsx", "--input-type=module", "-e", script],
    {
      encoding: "utf8",
      timeout: 30_000,
    },
  );
  return { code: child.status, out: child.stdout, err: child.stderr };
}

describe("HAProxy's configuration directory", () => {
  it("is removed once HAProxy has exited", async () => {
    const haproxy = await startHaproxy(
      { frontPort: await freePort(), replicas: ["127.0.0.1:1"] },
      { output: "ignore" },
    );
    const config = configOf(haproxy);
    assert.ok(existsSync(config), `HAProxy's configuration ${config} is there while it runs`);
    haproxy.kill("SIGTERM");
    await once(haproxy, "close");
    assert.ok(await gone(dirname(config)), `${dirname(config)} is left behind`);
  });

  it("is removed when the process that started HAProxy exits first, as pnpm replicas does on a signal", async () => {
    // The drivers kill HAProxy and exit at once, before its close can arrive.
    const script = `
      import { startHaproxy } from ${JSON.stringify(new URL("./haproxy.ts", import.meta.url).pathname)};
      const haproxy = await startHaproxy({ frontPort: ${await freePort()}, replicas: ["127.0.0.1:1"] }, { output: "ignore" });
      console.log(haproxy.spawnargs[haproxy.spawnargs.indexOf("-f") + 1]);
      haproxy.kill("SIGKILL");
      process.exit(0);
    `;
    const { code, out } = runScript(script);
    assert.equal(code, 0);
    const config = out.trim();
    assert.ok(config.endsWith("haproxy.cfg"), `the child printed ${JSON.stringify(out)}`);
    assert.equal(existsSync(dirname(config)), false, `${dirname(config)} is left behind`);
  });

  it("is removed after a failed start, whose error still stops the process that asked", async () => {
    const script = `
      import { startHaproxy } from ${JSON.stringify(new URL("./haproxy.ts", import.meta.url).pathname)};
      process.env.PATH = "/nonexistent";
      const haproxy = await startHaproxy({ frontPort: ${await freePort()}, replicas: ["127.0.0.1:1"] }, { output: "ignore" });
      console.log(haproxy.spawnargs[haproxy.spawnargs.indexOf("-f") + 1]);
    `;
    const { code, out, err } = runScript(script);
    // Unhandled, as before the cleanup: a missing HAProxy is not silently ignored.
    assert.notEqual(code, 0);
    assert.match(err, /spawn haproxy ENOENT/);
    const config = out.trim();
    assert.ok(config.endsWith("haproxy.cfg"), `the child printed ${JSON.stringify(out)}`);
    assert.equal(existsSync(dirname(config)), false, `${dirname(config)} is left behind`);
  });
});
