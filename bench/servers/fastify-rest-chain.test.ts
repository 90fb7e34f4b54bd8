import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { after, before, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";

// The REST peer carries the chain it is compared with: if a hook or the
// schema went missing, the bench would compare Greeter with a lighter route
// and nobody would notice (the bench only times successful calls).
describe("the REST peer with the same chain (fastify-rest-chain.ts)", () => {
  let server: ChildProcess;
  let base = "";
  const logLines: Record<string, unknown>[] = [];

  before(async () => {
    server = spawn(
      process.execPath,
      // As the bench runs it: no loader, Node strips the types.
      ["--conditions=source", new URL("fastify-rest-chain.ts", import.meta.url).pathname],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    let stdout = "";
    server.stdout?.on("data", (d: Buffer) => {
      stdout += d.toString();
      const lines = stdout.split("\n");
      stdout = lines.pop() ?? "";
      for (const line of lines) logLines.push(JSON.parse(line));
    });
    let stderr = "";
    const port = await new Promise<string>((resolve, reject) => {
      server.stderr?.on("data", (d: Buffer) => {
        stderr += d.toString();
        const m = /PORT (\d+)/.exec(stderr);
        if (m?.[1]) resolve(m[1]);
      });
      server.once("exit", (code) => reject(new Error(`the server exited with ${code}:\n${stderr}`)));
    });
    base = `http://127.0.0.1:${port}`;
  });

  after(async () => {
    if (server.exitCode === null) {
      server.kill();
      await once(server, "exit");
    }
  });

  const greet = (body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${base}/greet`, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body: JSON.stringify(body),
    });

  /** The log line of the call that was answered with this request id, once written. */
  async function lineOf(requestId: string): Promise<Record<string, unknown>> {
    for (let i = 0; i < 100; i++) {
      const line = logLines.find((l) => l.requestId === requestId);
      if (line) return line;
      await sleep(20);
    }
    assert.fail(`no log line for ${requestId}`);
  }

  it("greets, echoes a usable request id and makes one for a call without one", async () => {
    const given = await greet({ name: " Ada " }, { "x-request-id": "trace-42" });
    assert.equal(given.status, 200);
    assert.deepEqual(await given.json(), { greeting: "Hello, Ada!", language: "en" });
    assert.equal(given.headers.get("x-request-id"), "trace-42");
    const made = await greet({ name: "Ada" }, { "x-request-id": "not usable: spaces" });
    assert.match(made.headers.get("x-request-id") ?? "", /^[0-9a-f]+-[0-9a-z]+$/);
  });

  it("checks the proto's rules: not blank, at most 100 characters (code points), and answers with the id", async () => {
    for (const name of ["", "   ", "x".repeat(101), "é".repeat(101)]) {
      const res = await greet({ name }, { "x-request-id": "bad-name" });
      assert.equal(res.status, 400, JSON.stringify(name));
      assert.equal(res.headers.get("x-request-id"), "bad-name");
    }
    assert.equal((await greet({})).status, 400, "a missing name is a blank one");
    assert.equal((await greet({ name: "é".repeat(100) })).status, 200);
  });

  it("writes one line per call with Greeter's fields", async () => {
    await greet({ name: "Grace" }, { "x-request-id": "log-ok", "user-agent": "bench-test", "x-client-name": "t" });
    await greet({ name: " " }, { "x-request-id": "log-bad" });
    const ok = await lineOf("log-ok");
    assert.deepEqual(
      { ...ok, time: 0, pid: 0, hostname: "", peer: "", durationMs: 0 },
      {
        level: 30,
        time: 0,
        pid: 0,
        hostname: "",
        requestId: "log-ok",
        procedure: "/greet",
        streamType: "unary",
        protocol: "rest",
        peer: "",
        clientName: "t",
        userAgent: "bench-test",
        code: "ok",
        durationMs: 0,
        messagesIn: 1,
        messagesOut: 1,
        bytesIn: 16,
        bytesOut: 44,
        msg: "rpc",
      },
    );
    assert.match(String(ok.peer), /^127\.0\.0\.1:\d+$/);
    const bad = await lineOf("log-bad");
    assert.equal(bad.code, "invalid_argument");
    assert.equal(bad.msg, "rpc failed");
    assert.equal(logLines.filter((l) => l.requestId === "log-ok").length, 1, "one line, not Fastify's two");
  });

  it("counts calls with the labels of Greeter's metrics", async () => {
    const labels = 'grpc_service="greeter.v1.Greeter",grpc_method="Greet",grpc_type="unary"';
    const value = (text: string, series: string): number =>
      Number(
        text
          .split("\n")
          .find((l) => l.startsWith(`${series} `))
          ?.slice(series.length + 1) ?? Number.NaN,
      );
    const before = await (await fetch(`${base}/metrics`)).text();
    await greet({ name: "Linus" });
    await greet({ name: "" });
    const text = await (await fetch(`${base}/metrics`)).text();
    const delta = (series: string): number => value(text, series) - (value(before, series) || 0);
    assert.equal(delta(`grpc_server_started_total{${labels}}`), 2);
    assert.equal(delta(`grpc_server_handled_total{${labels},grpc_code="OK"}`), 1);
    assert.equal(delta(`grpc_server_handled_total{${labels},grpc_code="INVALID_ARGUMENT"}`), 1);
    assert.equal(delta(`grpc_server_msg_received_total{${labels}}`), 2);
    assert.equal(delta(`grpc_server_msg_sent_total{${labels}}`), 1);
    assert.equal(delta(`grpc_server_handling_seconds_count{${labels}}`), 2);
  });
});
