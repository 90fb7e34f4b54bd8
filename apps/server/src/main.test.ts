import assert from "node:assert/strict";
import { once } from "node:events";
import { describe, it } from "node:test";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { Health, ServingStatus } from "@greeter/grpc-health";
import { Greeter } from "@greeter/proto/greeter/v1/greeter_pb.js";
import { greetOnNewConnection, startServerProcess as startMain } from "../test/testing-process.js";

describe("the server process", () => {
  it("drains on SIGTERM: health goes NOT_SERVING, short calls finish, long streams end UNAVAILABLE, exit 0", async () => {
    const { child, url } = await startMain({ SHUTDOWN_GRACE_MS: "1500" });
    const transport = createGrpcTransport({ baseUrl: url });
    const greeter = createClient(Greeter, transport);
    const health = createClient(Health, transport);

    const watched: ServingStatus[] = [];
    const watch = (async () => {
      for await (const res of health.watch({ service: "" })) watched.push(res.status);
    })().catch((e: unknown) => e);
    const collect = async (count: number, intervalMs: number) => {
      const got: string[] = [];
      try {
        for await (const res of greeter.greetStream({ name: "Ada", count, intervalMs })) got.push(res.greeting);
        return { got, code: Code[0] ?? "OK" };
      } catch (e) {
        return { got, code: Code[ConnectError.from(e).code] };
      }
    };
    const short = collect(3, 200);
    const long = collect(100, 200);
    // Let both streams start and the watch see SERVING.
    for (let i = 0; i < 100 && watched.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(watched, [ServingStatus.SERVING]);

    const started = Date.now();
    child.kill("SIGTERM");
    const [exitCode] = (await once(child, "exit")) as [number | null];
    const tookMs = Date.now() - started;

    assert.equal(exitCode, 0);
    assert.ok(tookMs < 5_000, `shutdown took ${tookMs} ms for a 1500 ms grace`);
    assert.deepEqual(await short, { got: ["Hello, Ada!", "Hola, Ada!", "Bonjour, Ada!"], code: "OK" });
    const longResult = await long;
    assert.equal(longResult.code, "Unavailable");
    assert.ok(longResult.got.length >= 3, `the long stream got ${longResult.got.length} greetings`);
    await watch;
    assert.deepEqual(watched, [ServingStatus.SERVING, ServingStatus.NOT_SERVING]);
  });

  it("refuses a bad setting at start-up, naming it", async () => {
    await assert.rejects(startMain({ PORT: "eighty" }), /bad configuration: PORT="eighty": must be a whole number/);
    await assert.rejects(startMain({}, ["--max-message-bytes", "0"]), /--max-message-bytes="0": must be between 1/);
    await assert.rejects(startMain({ TLS_CERT: "/no/such/cert.pem" }), /TLS_CERT=.*cannot read the file \(ENOENT\)/);
  });
});

describe("WORKERS=2: a cluster on one port", () => {
  it("spreads connections over both workers, sums /metrics over them, and drains all on SIGTERM", async () => {
    const { child, url, output } = await startMain({ WORKERS: "2", LOG_LEVEL: "info" });
    // startMain returns at the first worker's line; connections go only to workers already listening.
    for (let i = 0; i < 200 && output().split("Greeter listening").length < 3; i++) {
      await new Promise((r) => setTimeout(r, 50));
    }
    const calls = 40;
    for (let i = 0; i < calls; i++) assert.equal(await greetOnNewConnection(url), 200);

    const metrics = await (await fetch(`${url}/metrics`)).text();
    const handled = /^grpc_server_handled_total\{[^}]*grpc_method="Greet"[^}]*grpc_code="OK"\} (\d+)$/m.exec(metrics);
    assert.equal(Number(handled?.[1]), calls, "the primary sums both workers' counters");

    const rpcPids = new Set(
      output()
        .split("\n")
        .filter((line) => line.includes('"msg":"rpc"'))
        .map((line) => (JSON.parse(line) as { pid: number }).pid),
    );
    assert.equal(rpcPids.size, 2, "both workers answered calls");

    child.kill("SIGTERM");
    const [exitCode] = (await once(child, "exit")) as [number | null];
    assert.equal(exitCode, 0);
    for (const pid of rpcPids) {
      assert.throws(() => process.kill(pid, 0), /ESRCH/, `worker ${pid} is gone`);
    }
  });
});
