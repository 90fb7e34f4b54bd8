import assert from "node:assert/strict";
import { once } from "node:events";
import net from "node:net";
import { after, afterEach, before, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import tls from "node:tls";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { Greeter } from "@greeter/proto/greeter/v1/greeter_pb.js";
import { loadConfig } from "../src/config.js";
import { type Certificate, makeCertificate } from "./certificate.js";
import { startTestServer, type TestServer } from "./testing.js";

// Every client socket a test opens is destroyed after it, passed or failed,
// so a failure cannot leave the process waiting on an open connection.
const opened = new Set<net.Socket>();
afterEach(() => {
  for (const socket of opened) socket.destroy();
  opened.clear();
});

/** A TCP connection from `localAddress` (any 127.x address is this machine), and when it closed. */
async function connect(port: number, localAddress = "127.0.0.1") {
  const socket = net.connect({ host: "127.0.0.1", port, localAddress });
  opened.add(socket);
  await once(socket, "connect");
  let closedAt: number | undefined;
  let received = 0;
  socket.on("data", (d: Buffer) => {
    received += d.length;
  });
  socket.on("error", () => {});
  socket.once("close", () => {
    closedAt = Date.now();
  });
  return {
    socket,
    closed: () => closedAt !== undefined,
    closedAt: () => closedAt,
    received: () => received,
  };
}

async function waitFor(check: () => boolean, ms: number): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end; ) {
    if (check()) return true;
    await sleep(20);
  }
  return check();
}

describe("edge limits: defaults", () => {
  it("gives a request head 10 s, and caps connections in all and per address", () => {
    const config = loadConfig({}, []);
    assert.equal(config.headersTimeoutMs, 10_000);
    assert.equal(config.maxConnections, 10_000);
    assert.equal(config.maxConnectionsPerAddress, 256);
  });
});

describe("edge limits: a slow request head (slowloris)", () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ headersTimeoutMs: 2_000 });
  });
  after(() => server.close());

  it("closes 200 sockets that send their head a byte at a time, within the limit, while other calls stay fast", async () => {
    const started = Date.now();
    const slow = await Promise.all(Array.from({ length: 200 }, () => connect(server.port)));
    // Each sends a request line, then a header byte every 250 ms: never a whole head.
    const head = "GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Slow: ";
    for (const s of slow) s.socket.write(head);
    const drip = setInterval(() => {
      for (const s of slow) if (!s.closed()) s.socket.write("a");
    }, 250);
    try {
      // Meanwhile, other clients are answered as usual, well within a short deadline.
      const grpc = createClient(Greeter, createGrpcTransport({ baseUrl: server.url }));
      const connect1 = createClient(Greeter, createConnectTransport({ baseUrl: server.url, httpVersion: "1.1" }));
      for (let i = 0; i < 20; i++) {
        assert.equal((await grpc.greet({ name: "Ada" }, { timeoutMs: 2_000 })).greeting, "Hello, Ada!");
        assert.equal((await connect1.greet({ name: "Ada" }, { timeoutMs: 2_000 })).greeting, "Hello, Ada!");
      }
      // The limit (2 s) plus Node's check interval (1 s) and some slack.
      assert.ok(await waitFor(() => slow.every((s) => s.closed()), 6_000), "slow sockets still open");
      const latest = Math.max(...slow.map((s) => s.closedAt() ?? 0)) - started;
      assert.ok(latest >= 1_500, `closed after ${latest} ms: before the limit`);
    } finally {
      clearInterval(drip);
      for (const s of slow) s.socket.destroy();
    }
  });
});

describe("edge limits: connections per client address", () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ maxConnectionsPerAddress: 5 });
  });
  after(() => server.close());

  it("refuses the connection past the cap, and only for that address", async () => {
    const held = await Promise.all(Array.from({ length: 5 }, () => connect(server.port, "127.0.0.2")));
    const refused = await connect(server.port, "127.0.0.2");
    assert.ok(await waitFor(refused.closed, 2_000), "the sixth connection from 127.0.0.2 stays open");
    assert.equal(refused.received(), 0);

    // Another address, and this machine's own, are not touched.
    const other = await connect(server.port, "127.0.0.3");
    const client = createClient(Greeter, createGrpcTransport({ baseUrl: server.url }));
    assert.equal((await client.greet({ name: "Ada" })).greeting, "Hello, Ada!");
    await sleep(300);
    assert.equal(other.closed(), false);
    assert.ok(
      held.every((h) => !h.closed()),
      "the five admitted connections were cut",
    );

    // A closed connection frees its place.
    held[0]?.socket.destroy();
    await sleep(100);
    const again = await connect(server.port, "127.0.0.2");
    await sleep(300);
    assert.equal(again.closed(), false, "a place freed by a closed connection was not given back");
    for (const c of [...held, other, again]) c.socket.destroy();
  });
});

describe("edge limits: connections in all", () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ maxConnections: 3, maxConnectionsPerAddress: 0 });
  });
  after(() => server.close());

  it("closes new connections past MAX_CONNECTIONS at once, and the server goes on", async () => {
    const held = await Promise.all(Array.from({ length: 3 }, (_, i) => connect(server.port, `127.0.0.${i + 2}`)));
    const refused = await connect(server.port, "127.0.0.9");
    assert.ok(await waitFor(refused.closed, 2_000), "the fourth connection stays open");
    for (const h of held) h.socket.destroy();
    await sleep(100);
    const client = createClient(Greeter, createGrpcTransport({ baseUrl: server.url }));
    assert.equal((await client.greet({ name: "Ada" })).greeting, "Hello, Ada!");
  });
});

describe("edge limits: per address, over TLS", () => {
  let server: TestServer;
  let certificate: Certificate;
  let cert: string;
  before(async () => {
    certificate = await makeCertificate();
    cert = certificate.cert;
    server = await startTestServer({ tlsCert: cert, tlsKey: certificate.key, maxConnectionsPerAddress: 2 });
  });
  after(async () => {
    await server?.close();
    await certificate?.remove();
  });

  it("refuses the TCP connection before its handshake, and serves the others", async () => {
    const held = await Promise.all([connect(server.port, "127.0.0.2"), connect(server.port, "127.0.0.2")]);
    const tcp = net.connect({ host: "127.0.0.1", port: server.port, localAddress: "127.0.0.2" });
    const refused = tls.connect({ socket: tcp, ca: cert, servername: "localhost" });
    opened.add(tcp);
    opened.add(refused);
    const outcome = await new Promise<string>((resolve) => {
      refused.once("secureConnect", () => resolve("handshake"));
      refused.once("error", () => resolve("refused"));
      refused.once("close", () => resolve("refused"));
    });
    assert.equal(outcome, "refused");
    const client = createClient(Greeter, createGrpcTransport({ baseUrl: server.url, nodeOptions: { ca: cert } }));
    assert.equal((await client.greet({ name: "Ada" })).greeting, "Hello, Ada!");
    for (const h of held) h.socket.destroy();
  });
});
