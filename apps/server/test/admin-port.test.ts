import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer } from "node:http";
import { after, before, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { Greeter } from "@greeter/proto/greeter/v1/greeter_pb.js";
import { freePort, startTestServer, type TestServer } from "./testing.js";
import { greetOnNewConnection, startServerProcess } from "./testing-process.js";

const GREET_OK = /^grpc_server_handled_total\{[^}]*grpc_method="Greet"[^}]*grpc_code="OK"\} (\d+)$/m;

/** A GET on a connection of its own: the status and the body, or what went wrong connecting. */
async function get(url: string): Promise<{ status: number; body: string } | { error: string }> {
  try {
    const res = await fetch(url, { headers: { connection: "close" } });
    return { status: res.status, body: await res.text() };
  } catch (e) {
    return { error: ((e as Error).cause as Error | undefined)?.message ?? (e as Error).message };
  }
}

/** The answer the public port gives any unknown path (not-found.ts). */
function assertUnknownPath(answer: Awaited<ReturnType<typeof get>>, path: string): void {
  assert.ok("status" in answer, `GET ${path}: ${"error" in answer ? answer.error : ""}`);
  assert.equal(answer.status, 404, `GET ${path}`);
  assert.deepEqual(JSON.parse(answer.body), {
    code: "unimplemented",
    message: `no such method or route: GET ${path}`,
  });
}

describe("ADMIN_PORT: /metrics on a port of its own", () => {
  let server: TestServer;
  let admin: string;
  before(async () => {
    server = await startTestServer({ adminPort: 0 });
    assert.ok(server.adminUrl, "the admin listener reports where it listens");
    admin = server.adminUrl;
  });
  after(() => server.close());

  it("serves the public port's metrics on the admin port, and the public port answers /metrics 404", async () => {
    assert.notEqual(new URL(admin).port, String(server.port));
    const greeter = createClient(Greeter, createGrpcTransport({ baseUrl: server.url }));
    for (let i = 0; i < 3; i++) assert.equal((await greeter.greet({ name: "Ada" })).greeting, "Hello, Ada!");

    const metrics = await get(`${admin}/metrics`);
    assert.ok("status" in metrics && metrics.status === 200, JSON.stringify(metrics));
    assert.equal(Number(GREET_OK.exec(metrics.body)?.[1]), 3, "the calls on the public port are counted");
    assert.match(metrics.body, /^process_cpu_seconds_total /m);

    assertUnknownPath(await get(`${server.url}/metrics`), "/metrics");
  });

  it("answers /healthz on both ports, and nothing else on the admin port", async () => {
    for (const base of [server.url, admin]) {
      const healthz = await get(`${base}/healthz`);
      assert.deepEqual(healthz, { status: 200, body: '{"status":"SERVING"}' }, base);
    }
    // The API, its description and the page stay public (see docs/operations.md).
    assert.equal((await fetch(`${server.url}/openapi.json`)).status, 200);
    assert.equal((await fetch(`${server.url}/docs/`)).status, 200);
    for (const path of ["/openapi.json", "/docs/", "/"]) assertUnknownPath(await get(`${admin}${path}`), path);
    const rpc = await fetch(`${admin}/greeter.v1.Greeter/Greet`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name: "Ada" }),
    });
    assert.equal(rpc.status, 404);
    assert.equal(((await rpc.json()) as { code: string }).code, "unimplemented");
  });
});

describe("without ADMIN_PORT (the default, as `pnpm dev` runs)", () => {
  it("serves /metrics on the one port and opens no admin listener", async () => {
    const server = await startTestServer();
    try {
      assert.equal(server.adminUrl, undefined);
      const metrics = await get(`${server.url}/metrics`);
      assert.ok("status" in metrics && metrics.status === 200, JSON.stringify(metrics));
      assert.match(metrics.body, /^process_cpu_seconds_total /m);
    } finally {
      await server.close();
    }
  });
});

describe("ADMIN_PORT and the drain", () => {
  it("reports NOT_SERVING on the admin port during the drain delay, and closes it with the server", async () => {
    const server = await startTestServer({ adminPort: 0, drainDelayMs: 600 });
    const admin = server.adminUrl ?? assert.fail("no admin port");
    const closing = server.close();
    assert.deepEqual(await get(`${admin}/healthz`), { status: 503, body: '{"status":"NOT_SERVING"}' });
    const metrics = await get(`${admin}/metrics`);
    assert.ok("status" in metrics && metrics.status === 200, "the drain can be scraped while it lasts");
    await closing;
    const gone = await get(`${admin}/healthz`);
    assert.ok("error" in gone && /ECONNREFUSED/.test(gone.error), `after close: ${JSON.stringify(gone)}`);
  });
});

describe("ADMIN_PORT with WORKERS=2", () => {
  it("serves the cluster's summed metrics from the primary's admin port, none on the public port, NOT_SERVING from SIGTERM, closed on exit", async () => {
    const { child, url, adminUrl, output } = await startServerProcess({
      WORKERS: "2",
      LOG_LEVEL: "info",
      ADMIN_PORT: "0",
      // Time to see the primary's /healthz turn while the workers drain.
      DRAIN_DELAY_MS: "1000",
    });
    assert.ok(adminUrl, "the primary logs its admin port");
    for (let i = 0; i < 200 && output().split("Greeter listening").length < 3; i++) await sleep(50);
    const calls = 20;
    for (let i = 0; i < calls; i++) assert.equal(await greetOnNewConnection(url), 200);

    const metrics = await get(`${adminUrl}/metrics`);
    assert.ok("status" in metrics && metrics.status === 200, JSON.stringify(metrics));
    assert.equal(Number(GREET_OK.exec(metrics.body)?.[1]), calls, "the primary sums both workers' counters");
    assert.match(metrics.body, /^greeter_worker_restarts_total 0$/m, "and adds its own");
    assert.deepEqual(await get(`${adminUrl}/healthz`), { status: 200, body: '{"status":"SERVING"}' });
    // Whichever worker takes the connection, /metrics is an unknown path there.
    for (let i = 0; i < 4; i++) assertUnknownPath(await get(`${url}/metrics`), "/metrics");

    const exited = once(child, "exit");
    child.kill("SIGTERM");
    await sleep(200);
    assert.deepEqual(await get(`${adminUrl}/healthz`), { status: 503, body: '{"status":"NOT_SERVING"}' });
    const [exitCode] = (await exited) as [number | null];
    assert.equal(exitCode, 0);
    const gone = await get(`${adminUrl}/healthz`);
    assert.ok("error" in gone && /ECONNREFUSED/.test(gone.error), `after exit: ${JSON.stringify(gone)}`);
  });
});

describe("an admin port that cannot be bound", () => {
  it("stops the server at start-up, alone or as a cluster's primary, before any worker serves", async () => {
    const taken = createServer();
    const port = await freePort();
    taken.listen(port, "127.0.0.1");
    await once(taken, "listening");
    try {
      await assert.rejects(startServerProcess({ ADMIN_PORT: String(port) }), /EADDRINUSE/);
      await assert.rejects(startServerProcess({ WORKERS: "2", ADMIN_PORT: String(port) }), (e: Error) => {
        assert.match(e.message, /exited with 1/);
        assert.match(e.message, /the admin port cannot listen: .*EADDRINUSE.*; stopping/);
        assert.doesNotMatch(e.message, /Greeter listening/);
        return true;
      });
    } finally {
      taken.close();
    }
  });
});
