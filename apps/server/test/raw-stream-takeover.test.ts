import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import * as grpc from "@grpc/grpc-js";
import { collect, GreeterStub, type Stub, unary } from "./interop/grpc-js-client.js";
import { startTestServer, type TestServer } from "./testing.js";

// The fast path answers gRPC on the HTTP/2 stream itself, ahead of Node's
// compatibility API (one-port's takeStream). Should a Node version stop
// letting it in front, every call would still be answered, only slower, so
// only a count of the streams taken shows it.
describe("the fast path's raw HTTP/2 stream takeover, on the Node the project runs", () => {
  const opened: { server: TestServer; stub: Stub }[] = [];
  after(async () => {
    for (const { server, stub } of opened) {
      stub.close();
      await server.close();
    }
  });

  async function open(fastPath: boolean, options: grpc.ChannelOptions = {}) {
    const server = await startTestServer({ fastPath });
    const stub = new GreeterStub(`127.0.0.1:${server.port}`, grpc.credentials.createInsecure(), options);
    opened.push({ server, stub });
    return { server, stub };
  }

  it("answers unary and server-streaming gRPC calls on the stream itself", async () => {
    const { server, stub } = await open(true);
    const before = server.onePort.streamsTaken;
    const res = await unary<{ greeting: string }>(stub, "greet", { name: "Ada" });
    assert.equal(res.greeting, "Hello, Ada!");
    assert.equal(server.onePort.streamsTaken, before + 1);
    const call = stub.greetStream?.({ name: "Grace", count: 2, interval_ms: 1 }) as grpc.ClientReadableStream<unknown>;
    assert.equal((await collect(call)).length, 2);
    assert.equal(server.onePort.streamsTaken, before + 2);
  });

  it("leaves a compressed call to connect-node, which still answers it", async () => {
    const { server, stub } = await open(true, { "grpc.default_compression_algorithm": 2 });
    const before = server.onePort.streamsTaken;
    const res = await unary<{ greeting: string }>(stub, "greet", { name: "Lin" });
    assert.equal(res.greeting, "Hello, Lin!");
    assert.equal(server.onePort.streamsTaken, before);
  });

  it("takes no stream with FAST_PATH=false", async () => {
    const { server, stub } = await open(false);
    const res = await unary<{ greeting: string }>(stub, "greet", { name: "Ada" });
    assert.equal(res.greeting, "Hello, Ada!");
    assert.equal(server.onePort.streamsTaken, 0);
  });
});
