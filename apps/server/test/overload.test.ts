import assert from "node:assert/strict";
import http2 from "node:http2";
import { after, before, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import type { MemoryGuard } from "@greeter/one-port";
import { Greeter } from "@greeter/proto/greeter/v1/greeter_pb.js";
import { grpcHeaders } from "./attacks/attacks.js";
import { frame, h2Request } from "./raw-requests.js";
import { startTestServer, type TestServer } from "./testing.js";

const GREET = "/greeter.v1.Greeter/Greet";

/** A memory guard that always reports `shed`. */
function shedding(): MemoryGuard {
  const reading = { rssBytes: 0, externalBytes: 0, heapUsedBytes: 0, heapLimitBytes: 1 };
  return { pressure: "shed", last: reading, check: () => "shed", onCritical: () => {}, close: () => {} };
}

/** A protobuf varint. */
function varint(n: number): Buffer {
  const bytes: number[] = [];
  for (let v = n; ; v >>>= 7) {
    if (v < 0x80) {
      bytes.push(v);
      return Buffer.from(bytes);
    }
    bytes.push((v & 0x7f) | 0x80);
  }
}

/** A metric's value in /metrics text (the sum of every line whose labels contain `labels`). */
async function metric(server: TestServer, name: string, labels = ""): Promise<number> {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  let sum = 0;
  for (const line of text.split("\n")) {
    if (line.startsWith(`${name}{`) || line.startsWith(`${name} `)) {
      if (line.includes(labels)) sum += Number(line.slice(line.lastIndexOf(" ") + 1));
    }
  }
  return sum;
}

/**
 * Opens `count` gRPC Greet calls on one connection, each declaring a
 * message of `messageBytes` and sending all of it but its last byte, and
 * collects the status each one gets (or "open" if none came within `ms`).
 */
async function holdUnfinishedMessages(url: string, count: number, messageBytes: number, gzip: boolean, ms: number) {
  const session = http2.connect(url, { settings: { initialWindowSize: 2 ** 31 - 1 } });
  session.on("error", () => {});
  const statuses: string[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const stream = session.request(grpcHeaders(GREET, gzip));
      const status = new Promise<string>((resolve) => {
        stream.on("response", (h) => {
          if (h["grpc-status"] !== undefined) resolve(String(h["grpc-status"]));
        });
        stream.on("trailers", (t) => resolve(String(t["grpc-status"])));
        stream.on("error", () => resolve("reset"));
        stream.on("close", () => resolve("reset"));
        setTimeout(() => resolve("open"), ms).unref();
      });
      stream.on("error", () => {});
      stream.resume();
      const head = Buffer.alloc(5);
      head[0] = gzip ? 1 : 0;
      head.writeUInt32BE(messageBytes, 1);
      stream.write(head);
      stream.write(Buffer.alloc(messageBytes - 1, 7));
      statuses.push(await Promise.race([status, sleep(20).then(() => "pending")]));
      void status.then((s) => {
        if (statuses[i] === "pending") statuses[i] = s;
      });
    }
    await sleep(ms);
    return statuses;
  } finally {
    session.destroy();
  }
}

describe("request budget: unfinished messages a connection may make the server hold", () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({
      requestBufferPerConnectionBytes: 1024 * 1024,
      requestBufferTotalBytes: 64 * 1024 * 1024,
    });
  });
  after(() => server.close());

  for (const gzip of [false, true]) {
    const path = gzip ? "connect-node's path (gzip)" : "the fast path";
    it(`refuses calls past the per-connection budget with RESOURCE_EXHAUSTED, on ${path}`, async () => {
      const before = await metric(server, "greeter_request_budget_refused_total", 'budget="connection"');
      // 256 KiB messages, 1 MiB per connection: three fit (the fourth's last
      // chunk would pass the budget), the other seven are refused.
      const statuses = await holdUnfinishedMessages(server.url, 10, 256 * 1024, gzip, 1_000);
      const refused = statuses.filter((s) => s === String(Code.ResourceExhausted)).length;
      assert.ok(refused >= 6, `expected most calls refused with RESOURCE_EXHAUSTED, got ${statuses.join(",")}`);
      assert.ok(statuses.includes("open"), `the calls that fit wait for their last byte: ${statuses.join(",")}`);
      const after = await metric(server, "greeter_request_budget_refused_total", 'budget="connection"');
      assert.ok(after - before >= refused, "every refusal is counted");
      // Once those calls are gone, their bytes are given back.
      let held = Number.NaN;
      for (const end = Date.now() + 5_000; Date.now() < end; await sleep(100)) {
        held = await metric(server, "greeter_request_buffer_bytes");
        if (held === 0) break;
      }
      assert.equal(held, 0);
      // Another client is served meanwhile and after.
      const client = createClient(Greeter, createGrpcTransport({ baseUrl: server.url }));
      assert.equal((await client.greet({ name: "Ada" })).greeting, "Hello, Ada!");
    });
  }
});

describe("request budget: one client cannot keep the total from the others", () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({
      requestBufferPerConnectionBytes: 1024 * 1024,
      requestBufferTotalBytes: 2 * 1024 * 1024,
    });
  });
  after(() => server.close());

  it("closes the connection holding the most of it, so another client's large call goes through on retry", async () => {
    // Two connections each hold three unfinished 300 KiB messages: 1.8 MiB of the 2 MiB.
    const holding = [0, 1].map(() => holdUnfinishedMessages(server.url, 3, 300 * 1024, false, 3_000));
    await sleep(500);
    // A Greet with 300 KiB of unknown fields (its name is what counts).
    const padding = Buffer.alloc(300 * 1024, 1);
    const message = Buffer.concat([Buffer.from([0x0a, 3, 0x41, 0x64, 0x61, 0x7a]), varint(padding.length), padding]);
    const statuses: string[] = [];
    for (let attempt = 0; attempt < 5 && statuses.at(-1) !== "0"; attempt++) {
      const res = await h2Request(
        server.url,
        { ":path": GREET, "content-type": "application/grpc", te: "trailers" },
        frame(message),
      );
      statuses.push(String(res.trailers["grpc-status"] ?? res.headers["grpc-status"]));
      await sleep(300);
    }
    assert.equal(statuses[0], String(Code.ResourceExhausted), `first try: ${statuses.join(",")}`);
    assert.equal(statuses.at(-1), "0", `served on a retry: ${statuses.join(",")}`);
    assert.ok((await metric(server, "greeter_overload_total", 'why="request budget"')) >= 1, "the closing is counted");
    await Promise.all(holding);
  });
});

describe("shedding: new calls refused while memory is short", () => {
  let server: TestServer;
  before(async () => {
    // A guard that says "shed" (not "critical", which would also close
    // connections now and then): the server refuses every new call.
    server = await startTestServer({}, { memoryGuard: shedding() });
  });
  after(() => server.close());

  it("refuses gRPC calls over HTTP/2 with UNAVAILABLE", async () => {
    const client = createClient(Greeter, createGrpcTransport({ baseUrl: server.url }));
    await assert.rejects(client.greet({ name: "Ada" }), (e) => ConnectError.from(e).code === Code.Unavailable);
  });

  it("refuses Connect over HTTP/1.1 with 503 and the unavailable code, and a request id", async () => {
    const res = await fetch(`${server.url}${GREET}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name: "Ada" }),
    });
    assert.equal(res.status, 503);
    assert.equal(((await res.json()) as { code: string }).code, "unavailable");
    assert.match(res.headers.get("x-request-id") ?? "", /^[0-9a-f-]{36}$/);
  });

  it("lets a page from an allowed origin read the refusal, and answers its preflight", async () => {
    const origin = "http://localhost:5173";
    const preflight = await fetch(`${server.url}${GREET}`, {
      method: "OPTIONS",
      headers: { origin, "access-control-request-method": "POST", "access-control-request-headers": "content-type" },
    });
    assert.ok(preflight.status < 300, `preflight: ${preflight.status}`);
    const res = await fetch(`${server.url}${GREET}`, {
      method: "POST",
      headers: { origin, "content-type": "application/json" },
      body: JSON.stringify({ name: "Ada" }),
    });
    assert.equal(res.status, 503);
    assert.equal(res.headers.get("access-control-allow-origin"), origin);
    assert.match(res.headers.get("access-control-expose-headers") ?? "", /x-request-id/);
  });

  it("refuses gRPC-Web over HTTP/1.1 with grpc-status 14", async () => {
    const res = await fetch(`${server.url}${GREET}`, {
      method: "POST",
      headers: { "content-type": "application/grpc-web+proto" },
      body: new Uint8Array([0, 0, 0, 0, 0]),
    });
    assert.equal(res.headers.get("grpc-status"), "14");
    assert.match(decodeURIComponent(res.headers.get("grpc-message") ?? ""), /short of memory/);
  });

  it("keeps answering health checks and metrics, and counts what it refused", async () => {
    assert.equal((await fetch(`${server.url}/healthz`)).status, 200);
    assert.ok((await metric(server, "greeter_overload_total", 'action="refused"')) >= 3);
    assert.equal(await metric(server, "greeter_memory_pressure"), 1);
  });
});

describe("no shedding under ordinary memory", () => {
  it("serves calls when the limit is far off", async () => {
    const server = await startTestServer({ memoryLimitBytes: 64 * 1024 ** 3 });
    try {
      const client = createClient(Greeter, createGrpcTransport({ baseUrl: server.url }));
      assert.equal((await client.greet({ name: "Ada" })).greeting, "Hello, Ada!");
      assert.equal(await metric(server, "greeter_overload_total"), 0);
    } finally {
      await server.close();
    }
  });
});
