import assert from "node:assert/strict";
import http2 from "node:http2";
import { type AddressInfo, createServer as createNetServer } from "node:net";
import { after, before, describe, it } from "node:test";
import { Code, ConnectError, type ConnectRouter, createClient } from "@connectrpc/connect";
import { connectNodeAdapter, createGrpcTransport } from "@connectrpc/connect-node";
import { Greeter } from "@greeter/proto/greeter/v1/greeter_pb.js";
import { Health } from "@greeter/proto/health/v1/health_pb.js";
import { createRetryInterceptor } from "./retry-interceptor.js";

// A real server whose answers depend on the name: "flaky-N" fails N times
// with UNAVAILABLE, "busy" once with RESOURCE_EXHAUSTED and a retry hint.
const attempts = new Map<string, number>();
const timeouts = new Map<string, (number | undefined)[]>();
function routes(router: ConnectRouter): void {
  router.service(Greeter, {
    greet(req, ctx) {
      const n = (attempts.get(req.name) ?? 0) + 1;
      attempts.set(req.name, n);
      timeouts.set(req.name, [...(timeouts.get(req.name) ?? []), ctx.timeoutMs()]);
      const flaky = /^flaky-(\d+)/.exec(req.name);
      if (flaky && n <= Number(flaky[1])) throw new ConnectError("replica going away", Code.Unavailable);
      if (req.name === "busy" && n === 1) {
        throw new ConnectError("slow down", Code.ResourceExhausted, { "grpc-retry-pushback-ms": "50" });
      }
      if (req.name === "busy-no-hint") throw new ConnectError("slow down", Code.ResourceExhausted);
      if (req.name === "bad") throw new ConnectError("bad name", Code.InvalidArgument);
      return { greeting: `Hello, ${req.name}!` };
    },
  });
  router.service(Health, {
    // Not marked idempotent in health.proto: a failure after sending is final.
    check(req) {
      attempts.set(`health:${req.service}`, (attempts.get(`health:${req.service}`) ?? 0) + 1);
      if (req.service === "flaky") throw new ConnectError("replica going away", Code.Unavailable);
      return { status: 1 };
    },
  });
}

const sessions = new Set<http2.ServerHttp2Session>();
// The first N streams of a "refuse-N" health check are reset with
// REFUSED_STREAM before any handler runs, as HAProxy does when a backend goes.
let refusals = 0;
// The first N answers with "x-cut-off: N" start and end with no status, as a
// replica killed mid-answer leaves them (HAProxy passes on what it got).
let cutOffs = 0;
function listen(port = 0): Promise<http2.Http2Server> {
  const adapter = connectNodeAdapter({ routes });
  const server = http2.createServer((req, res) => {
    if (req.headers["x-refuse"] !== undefined && refusals < Number(req.headers["x-refuse"])) {
      refusals++;
      req.stream.close(http2.constants.NGHTTP2_REFUSED_STREAM);
      return;
    }
    if (req.headers["x-cut-off"] !== undefined && cutOffs < Number(req.headers["x-cut-off"])) {
      cutOffs++;
      req.stream.respond({ ":status": 200, "content-type": "application/grpc" });
      req.stream.end();
      return;
    }
    adapter(req, res);
  });
  server.on("session", (session) => sessions.add(session));
  return new Promise((resolve) => server.listen(port, "127.0.0.1", () => resolve(server)));
}
async function stop(server: http2.Http2Server): Promise<void> {
  // Clients keep their connections open; close() would wait for them.
  for (const session of sessions) session.destroy();
  await new Promise((resolve) => server.close(resolve));
}

let server: http2.Http2Server;
let url: string;
before(async () => {
  server = await listen();
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(async () => {
  await stop(server);
});

const retrying = (baseUrl = url) =>
  createGrpcTransport({ baseUrl, interceptors: [createRetryInterceptor({ initialBackoffMs: 20, maxBackoffMs: 200 })] });

describe("retry interceptor", () => {
  it("resends a stream the server refused (REFUSED_STREAM), even for a method not marked idempotent", async () => {
    refusals = 0;
    const res = await createClient(Health, retrying()).check({ service: "" }, { headers: { "x-refuse": "2" } });
    assert.equal(res.status, 1);
    assert.equal(refusals, 2);
  });

  it("resends an idempotent call whose answer was cut off, but not a call that may have had effects", async () => {
    cutOffs = 0;
    const res = await createClient(Greeter, retrying()).greet({ name: "Ada" }, { headers: { "x-cut-off": "2" } });
    assert.equal(res.greeting, "Hello, Ada!");
    assert.equal(cutOffs, 2);
    cutOffs = 0;
    await assert.rejects(
      createClient(Health, retrying()).check({ service: "" }, { headers: { "x-cut-off": "1" } }),
      (e: unknown) => e instanceof ConnectError && e.code === Code.Internal && /missing/.test(e.rawMessage),
    );
    assert.equal(cutOffs, 1);
  });

  it("retries UNAVAILABLE for an idempotent method until it succeeds", async () => {
    const res = await createClient(Greeter, retrying()).greet({ name: "flaky-2" });
    assert.equal(res.greeting, "Hello, flaky-2!");
    assert.equal(attempts.get("flaky-2"), 3);
  });

  it("gives up after maxAttempts", async () => {
    await assert.rejects(
      createClient(Greeter, retrying()).greet({ name: "flaky-9" }),
      (e: unknown) => ConnectError.from(e).code === Code.Unavailable,
    );
    assert.equal(attempts.get("flaky-9"), 4);
  });

  it("does not retry other codes", async () => {
    await assert.rejects(createClient(Greeter, retrying()).greet({ name: "bad" }));
    assert.equal(attempts.get("bad"), 1);
  });

  it("does not resend a non-idempotent call the server may have acted on", async () => {
    await assert.rejects(
      createClient(Health, retrying()).check({ service: "flaky" }),
      (e: unknown) => ConnectError.from(e).code === Code.Unavailable,
    );
    assert.equal(attempts.get("health:flaky"), 1);
  });

  it("retries RESOURCE_EXHAUSTED only with a retry hint", async () => {
    assert.equal((await createClient(Greeter, retrying()).greet({ name: "busy" })).greeting, "Hello, busy!");
    assert.equal(attempts.get("busy"), 2);
    await assert.rejects(createClient(Greeter, retrying()).greet({ name: "busy-no-hint" }));
    assert.equal(attempts.get("busy-no-hint"), 1);
  });

  it("never waits past the deadline, and sends the time that is left", async () => {
    const transport = createGrpcTransport({
      baseUrl: url,
      interceptors: [createRetryInterceptor({ maxAttempts: 50, initialBackoffMs: 100, multiplier: 1, jitter: 0 })],
    });
    const started = Date.now();
    await assert.rejects(createClient(Greeter, transport).greet({ name: "flaky-50" }, { timeoutMs: 350 }));
    const took = Date.now() - started;
    assert.ok(took < 600, `gave up after ${took} ms for a 350 ms deadline`);
    const seen = timeouts.get("flaky-50") ?? [];
    assert.ok(seen.length >= 2 && seen.length <= 4, `${seen.length} attempts`);
    for (let i = 1; i < seen.length; i++) assert.ok((seen[i] ?? 0) < (seen[i - 1] ?? 0), `timeouts ${seen}`);
  });

  it("resends even a non-idempotent call when the connection was refused", async () => {
    const probe = createNetServer();
    await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
    const port = (probe.address() as AddressInfo).port;
    await new Promise((resolve) => probe.close(resolve));
    // Nothing listens yet; a replica comes up 60 ms later.
    const late = new Promise<http2.Http2Server>((resolve) => setTimeout(() => resolve(listen(port)), 60));
    try {
      const res = await createClient(Health, retrying(`http://127.0.0.1:${port}`)).check({ service: "late" });
      assert.equal(res.status, 1);
      assert.equal(attempts.get("health:late"), 1);
    } finally {
      await stop(await late);
    }
  });
});
