import assert from "node:assert/strict";
import http2 from "node:http2";
import net from "node:net";
import { describe, it } from "node:test";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { Greeter } from "@greeter/proto/greeter/v1/greeter_pb.js";
import * as grpc from "@grpc/grpc-js";
import { loadGreeterDefinition } from "./interop/grpc-js-client.js";
import { startTestServer } from "./testing.js";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("HTTP/2 connection lifecycle", () => {
  it("ages connections out: a grpc-js client reconnects and no call fails", async () => {
    const server = await startTestServer({ maxConnectionAgeMs: 1_000, maxConnectionAgeGraceMs: 1_000 });
    let connections = 0;
    server.onePort.server.on("connection", () => connections++);
    const pkg = grpc.loadPackageDefinition(loadGreeterDefinition({})) as unknown as {
      greeter: { v1: { Greeter: new (address: string, creds: grpc.ChannelCredentials) => grpc.Client } };
    };
    const client = new pkg.greeter.v1.Greeter(
      `127.0.0.1:${server.port}`,
      grpc.credentials.createInsecure(),
    ) as grpc.Client & {
      greet: (
        req: object,
        opts: grpc.CallOptions,
        cb: (err: grpc.ServiceError | null, res: { greeting: string }) => void,
      ) => void;
    };
    const greet = () =>
      new Promise<string>((resolve, reject) =>
        client.greet({ name: "Ada" }, { deadline: Date.now() + 5_000 }, (err, res) =>
          err ? reject(err) : resolve(res.greeting),
        ),
      );
    let ok = 0;
    const failures: string[] = [];
    const until = Date.now() + 5_000;
    try {
      // Four callers, each calling back to back for five seconds.
      await Promise.all(
        Array.from({ length: 4 }, async () => {
          while (Date.now() < until) {
            try {
              assert.equal(await greet(), "Hello, Ada!");
              ok++;
            } catch (e) {
              failures.push(String(e));
            }
            await sleep(5);
          }
        }),
      );
    } finally {
      client.close();
      await server.close();
    }
    assert.deepEqual(failures, []);
    assert.ok(ok > 100, `only ${ok} calls in 5 s`);
    // One connection a second, give or take the jitter.
    assert.ok(connections >= 3, `the client used ${connections} connection(s) in 5 s`);
  });

  it("drops a peer that does not answer keepalive PINGs", async () => {
    const server = await startTestServer({ keepaliveTimeMs: 200, keepaliveTimeoutMs: 300 });
    try {
      const socket = net.connect(server.port, "127.0.0.1");
      await new Promise((resolve) => socket.once("connect", resolve));
      // The preface and an empty SETTINGS frame, then silence: whatever the
      // server sends (its SETTINGS, its PING) is read and never answered.
      socket.write(Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"));
      socket.write(Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0]));
      socket.on("data", () => {});
      socket.on("error", () => {});
      const started = Date.now();
      await new Promise((resolve) => socket.once("close", resolve));
      const waited = Date.now() - started;
      assert.ok(waited >= 400 && waited < 3_000, `dropped after ${waited} ms, expected about 500`);
    } finally {
      await server.close();
    }
  });

  it("keeps a peer that answers PINGs, and calls still work", async () => {
    const server = await startTestServer({ keepaliveTimeMs: 100, keepaliveTimeoutMs: 300 });
    const session = http2.connect(server.url);
    try {
      await new Promise((resolve) => session.once("connect", resolve));
      await sleep(1_000);
      assert.equal(session.closed || session.destroyed, false);
      const client = createClient(Greeter, createGrpcTransport({ baseUrl: server.url }));
      assert.equal((await client.greet({ name: "Ada" })).greeting, "Hello, Ada!");
    } finally {
      session.destroy();
      await server.close();
    }
  });

  it("closes idle connections, but not one with a call in flight", async () => {
    const server = await startTestServer({ idleTimeoutMs: 300 });
    try {
      const client = createClient(Greeter, createGrpcTransport({ baseUrl: server.url }));
      // A stream of 1.2 s on a connection whose idle limit is 0.3 s.
      const got: string[] = [];
      for await (const res of client.greetStream({ name: "Ada", count: 4, intervalMs: 400 })) got.push(res.greeting);
      assert.equal(got.length, 4);

      const session = http2.connect(server.url);
      const started = Date.now();
      await new Promise((resolve) => session.once("goaway", resolve));
      const waited = Date.now() - started;
      session.destroy();
      assert.ok(waited >= 200 && waited < 2_000, `GOAWAY after ${waited} ms of idleness`);
    } finally {
      await server.close();
    }
  });
});
