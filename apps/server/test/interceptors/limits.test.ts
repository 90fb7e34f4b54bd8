import assert from "node:assert/strict";
import type { ClientSessionOptions } from "node:http2";
import { after, before, describe, it } from "node:test";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { createRetryInterceptor } from "@greeter/interceptors";
import { Greeter } from "@greeter/proto/greeter/v1/greeter_pb.js";
import * as grpc from "@grpc/grpc-js";
import { GreeterStub, type Stub } from "../interop/grpc-js-client.js";
import { startTestServer, type TestServer } from "../testing.js";

// 127.0.0.0/8 is all loopback on Linux: a second source address is a second client.
const fromAddress = (server: TestServer, localAddress: string, retry = false) =>
  createClient(
    Greeter,
    createGrpcTransport({
      baseUrl: server.url,
      // Passed on to net.connect, which Node's http2 types do not show.
      nodeOptions: { localAddress } as ClientSessionOptions,
      interceptors: retry ? [createRetryInterceptor({ maxAttempts: 10 })] : [],
    }),
  );

describe("per-client rate limit (RATE_LIMIT_PER_SECOND)", () => {
  let server: TestServer;
  before(async () => {
    // One token a second: the six calls below fit in that second even on a
    // loaded machine, so the sixth is refused whatever the scheduling.
    server = await startTestServer({ rateLimitPerSecond: 1, rateLimitBurst: 5 });
  });
  after(() => server.close());

  it("answers RESOURCE_EXHAUSTED with a retry hint past the burst, and other clients are unaffected", async () => {
    const first = fromAddress(server, "127.0.0.1");
    for (let i = 0; i < 5; i++) assert.equal((await first.greet({ name: "Ada" })).greeting, "Hello, Ada!");
    const error = await first.greet({ name: "Ada" }).then(
      () => assert.fail("the sixth call in a burst of five must be refused"),
      (e: unknown) => ConnectError.from(e),
    );
    assert.equal(error.code, Code.ResourceExhausted);
    assert.match(error.rawMessage, /^rate limit: at most 1 call per second per client; retry in \d+ ms$/);
    const pushback = Number(error.metadata.get("grpc-retry-pushback-ms"));
    assert.ok(pushback > 0 && pushback <= 1000, `grpc-retry-pushback-ms ${pushback}`);

    const second = fromAddress(server, "127.0.0.2");
    assert.equal((await second.greet({ name: "Grace" })).greeting, "Hello, Grace!");
  });

  it("says in its metrics that the limit and its count are per worker", async () => {
    const text = await (await fetch(`${server.url}/metrics`)).text();
    assert.match(text, /^greeter_rate_limit_per_second\{scope="worker"\} 1$/m);
    assert.match(text, /^greeter_rate_limited_total\{scope="worker"\} [1-9]\d*$/m);
    assert.match(text, /# HELP greeter_rate_limit_per_second .*with WORKERS=N up to N times this/);
  });

  it("is survived by a client that honours the hint (the retry interceptor)", async () => {
    const patient = fromAddress(server, "127.0.0.3", true);
    for (let i = 0; i < 7; i++) assert.equal((await patient.greet({ name: "Ada" })).greeting, "Hello, Ada!");
  });
});

describe("concurrent streams per HTTP/2 connection (MAX_CONCURRENT_STREAMS)", () => {
  let server: TestServer;
  let crowded: Stub;
  let other: Stub;
  before(async () => {
    server = await startTestServer({ maxConcurrentStreams: 2 });
    crowded = new GreeterStub(`127.0.0.1:${server.port}`, grpc.credentials.createInsecure());
    other = new GreeterStub(`127.0.0.1:${server.port}`, grpc.credentials.createInsecure(), {
      // A channel of its own, not shared with `crowded`.
      "grpc.use_local_subchannel_pool": 1,
    });
  });
  after(async () => {
    crowded.close();
    other.close();
    await server.close();
  });

  it("holds a third stream on a connection until one of two ends; another connection is not held", async () => {
    const events: string[] = [];
    const stream = (stub: Stub, label: string, count: number, intervalMs: number) =>
      new Promise<void>((resolve, reject) => {
        const call = stub.greetStream?.({
          name: label,
          count,
          interval_ms: intervalMs,
        }) as grpc.ClientReadableStream<unknown>;
        let first = true;
        call.on("data", () => {
          if (first) events.push(`${label} first`);
          first = false;
        });
        call.on("error", reject);
        call.on("end", () => {
          events.push(`${label} end`);
          resolve();
        });
      });
    const a = stream(crowded, "A", 2, 800);
    const b = stream(crowded, "B", 2, 1200);
    while (events.length < 2) await new Promise((r) => setTimeout(r, 20));
    const c = stream(crowded, "C", 1, 0);
    const d = stream(other, "D", 1, 0);
    await Promise.all([a, b, c, d]);
    assert.ok(events.indexOf("D first") < events.indexOf("A end"), `another connection went first: ${events}`);
    assert.ok(events.indexOf("C first") > events.indexOf("A end"), `C waited for a free stream: ${events}`);
  });
});
