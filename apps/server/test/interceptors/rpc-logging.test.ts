import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { toBinary } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient, type Transport } from "@connectrpc/connect";
import {
  compressionGzip,
  createConnectTransport,
  createGrpcTransport,
  createGrpcWebTransport,
} from "@connectrpc/connect-node";
import { createClientMetadataInterceptor } from "@greeter/interceptors";
import { Greeter, GreetingResponseSchema } from "@greeter/proto/greeter/v1/greeter_pb.js";
import { captureLogs, startTestServer, type TestServer } from "../testing.js";

// A per-process random prefix and a counter (request-id.ts).
const GENERATED_ID = /^[0-9a-f]{12}-[0-9a-z]+$/;
const generatedIds = new Set<string>();
const clientMetadata = createClientMetadataInterceptor({
  name: "log-test",
  version: "1.2.3",
  device: "server",
  os: "test-os",
});

// The fast paths take the first four, connect-node the compressed call; each must log the same way.
const PROTOCOLS: Record<string, { transport: (baseUrl: string) => Transport; protocol: string }> = {
  "gRPC (h2c)": {
    transport: (baseUrl) => createGrpcTransport({ baseUrl, interceptors: [clientMetadata] }),
    protocol: "grpc",
  },
  "gRPC-Web (HTTP/1.1)": {
    transport: (baseUrl) => createGrpcWebTransport({ baseUrl, httpVersion: "1.1", interceptors: [clientMetadata] }),
    protocol: "grpc-web",
  },
  "Connect JSON (HTTP/1.1)": {
    transport: (baseUrl) => createConnectTransport({ baseUrl, httpVersion: "1.1", interceptors: [clientMetadata] }),
    protocol: "connect",
  },
  "Connect GET (HTTP/1.1)": {
    transport: (baseUrl) =>
      createConnectTransport({ baseUrl, httpVersion: "1.1", useHttpGet: true, interceptors: [clientMetadata] }),
    protocol: "connect",
  },
  "Connect JSON, gzip request (HTTP/1.1)": {
    transport: (baseUrl) =>
      createConnectTransport({
        baseUrl,
        httpVersion: "1.1",
        sendCompression: compressionGzip,
        compressMinBytes: 0,
        interceptors: [clientMetadata],
      }),
    protocol: "connect",
  },
};

describe("request ids and one log line per RPC", () => {
  const logs = captureLogs();
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ logLevel: "debug" }, { logDestination: logs.destination });
  });
  after(() => server.close());

  const rpcLine = (requestId: string) => {
    const found = logs.lines.filter((l) => l.requestId === requestId);
    assert.equal(found.length, 1, `one log line for request ${requestId}, got ${found.length}`);
    return found[0] as Record<string, unknown>;
  };

  for (const [name, { transport, protocol }] of Object.entries(PROTOCOLS)) {
    it(`${name}: a new id is echoed, and the line says who, what, how and how much`, async () => {
      const client = createClient(Greeter, transport(server.url));
      let requestId = "";
      const response = await client.greet(
        { name: "Ada" },
        { onHeader: (h) => (requestId = h.get("x-request-id") ?? "") },
      );
      assert.equal(response.greeting, "Hello, Ada!");
      assert.match(requestId, GENERATED_ID);
      assert.ok(!generatedIds.has(requestId), "every call gets a new id");
      generatedIds.add(requestId);
      const line = rpcLine(requestId);
      assert.equal(line.msg, "rpc");
      assert.equal(line.level, 30);
      assert.equal(line.procedure, "/greeter.v1.Greeter/Greet");
      assert.equal(line.streamType, "unary");
      assert.equal(line.protocol, protocol);
      assert.equal(line.code, "ok");
      assert.match(String(line.peer), /^127\.0\.0\.1:\d+$/);
      assert.equal(typeof line.durationMs, "number");
      assert.ok((line.bytesIn as number) > 0 && (line.bytesOut as number) > 0, "bytes counted");
      assert.deepEqual(
        [line.clientName, line.clientVersion, line.clientDevice, line.clientOs],
        ["log-test", "1.2.3", "server", "test-os"],
      );
      assert.match(String(line.userAgent), /log-test\/1\.2\.3/);
    });

    it(`${name}: the caller's id is kept, and errors carry it and log at warn`, async () => {
      const client = createClient(Greeter, transport(server.url));
      const id = `test-${protocol}-${Math.random().toString(36).slice(2)}`;
      const error = await client.greet({ name: " " }, { headers: { "x-request-id": id } }).then(
        () => assert.fail("an empty name must fail"),
        (e: unknown) => ConnectError.from(e),
      );
      assert.equal(error.code, Code.InvalidArgument);
      assert.equal(error.metadata.get("x-request-id"), id);
      const line = rpcLine(id);
      assert.equal(line.level, 40);
      assert.equal(line.code, "invalid_argument");
      assert.equal(line.error, "name: must not be empty [name.not_blank]");
    });
  }

  it("replaces an id that could forge log lines", async () => {
    const client = createClient(Greeter, createConnectTransport({ baseUrl: server.url, httpVersion: "1.1" }));
    let echoed = "";
    await client.greet(
      { name: "Ada" },
      { headers: { "x-request-id": "evil id\twith spaces" }, onHeader: (h) => (echoed = h.get("x-request-id") ?? "") },
    );
    assert.match(echoed, GENERATED_ID);
  });

  it("logs a server stream when it ends, with its message count", async () => {
    const client = createClient(Greeter, createGrpcTransport({ baseUrl: server.url }));
    let requestId = "";
    let received = 0;
    // Bytes on the wire: each message and its 5-byte gRPC envelope.
    let wireBytes = 0;
    for await (const greeting of client.greetStream(
      { name: "Ada", count: 4 },
      { onHeader: (h) => (requestId = h.get("x-request-id") ?? "") },
    )) {
      received++;
      wireBytes += 5 + toBinary(GreetingResponseSchema, greeting).byteLength;
    }
    assert.equal(received, 4);
    const line = rpcLine(requestId);
    assert.equal(line.streamType, "server_stream");
    assert.equal(line.messagesOut, 4);
    assert.equal(line.bytesOut, wireBytes);
    assert.equal(line.code, "ok");
  });

  it("logs health checks at debug only, so probes do not flood the log", async () => {
    const { Health } = await import("@greeter/proto/health/v1/health_pb.js");
    const client = createClient(Health, createGrpcTransport({ baseUrl: server.url }));
    let requestId = "";
    await client.check({}, { onHeader: (h) => (requestId = h.get("x-request-id") ?? "") });
    assert.equal(rpcLine(requestId).level, 20);
  });
});
