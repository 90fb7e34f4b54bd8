import assert from "node:assert/strict";
import http2 from "node:http2";
import { after, before, describe, it } from "node:test";
import { brotliDecompressSync, gunzipSync, gzipSync } from "node:zlib";
import { fromBinary, toBinary } from "@bufbuild/protobuf";
import { GreetingRequestSchema, GreetingResponseSchema } from "@greeter/proto/greeter/v1/greeter_pb.js";
import * as grpc from "@grpc/grpc-js";
import { GreeterStub, type Stub, unary } from "./interop/grpc-js-client.js";
import { startTestServer, type TestServer } from "./testing.js";

const GREET = "/greeter.v1.Greeter/Greet";
const requestBytes = toBinary(GreetingRequestSchema, { $typeName: "greeter.v1.GreetingRequest", name: "Ada" });

function frame(flags: number, bytes: Uint8Array): Buffer {
  const out = Buffer.alloc(5 + bytes.length);
  out[0] = flags;
  out.writeUInt32BE(bytes.length, 1);
  out.set(bytes, 5);
  return out;
}

/** One raw HTTP/2 POST to Greet: the response headers and body. */
async function post(url: string, headers: Record<string, string>, body: Buffer) {
  const session = http2.connect(url);
  try {
    const stream = session.request({ ":method": "POST", ":path": GREET, ...headers });
    const [head, data] = await Promise.all([
      new Promise<http2.IncomingHttpHeaders>((resolve) => stream.once("response", resolve)),
      new Promise<Buffer>((resolve) => {
        const chunks: Buffer[] = [];
        stream.on("data", (c: Buffer) => chunks.push(c));
        stream.on("end", () => resolve(Buffer.concat(chunks)));
      }),
      stream.end(body),
    ]);
    return { head, data };
  } finally {
    session.close();
  }
}

/** One raw gRPC call: the response headers and the message frame's flag and bytes. */
async function rawGrpc(url: string, headers: Record<string, string>, body: Buffer) {
  const { head, data } = await post(url, { "content-type": "application/grpc", te: "trailers", ...headers }, body);
  return { head, flag: data[0], message: data.subarray(5) };
}

describe("compression (gzip and br), with every response compressed (COMPRESS_MIN_BYTES=0)", () => {
  let server: TestServer;
  let compressing: Stub;
  before(async () => {
    server = await startTestServer({ compressMinBytes: 0 });
    compressing = new GreeterStub(`127.0.0.1:${server.port}`, grpc.credentials.createInsecure(), {
      "grpc.default_compression_algorithm": 2, // gzip
    });
  });
  after(async () => {
    compressing.close();
    await server.close();
  });

  it("grpc-js sending gzip is answered", async () => {
    const res = await unary<{ greeting: string }>(compressing, "greet", { name: "Ada" });
    assert.equal(res.greeting, "Hello, Ada!");
  });

  it("gRPC: a gzip request frame is read, and the answer is gzip for a client that accepts it", async () => {
    for (const [what, headers, body] of [
      ["uncompressed request (fast path)", {}, frame(0, requestBytes)],
      ["gzip request (connect-node)", { "grpc-encoding": "gzip" }, frame(1, gzipSync(requestBytes))],
    ] as const) {
      const { head, flag, message } = await rawGrpc(server.url, { ...headers, "grpc-accept-encoding": "gzip" }, body);
      assert.equal(head["grpc-encoding"], "gzip", what);
      assert.equal(flag, 1, what);
      assert.equal(fromBinary(GreetingResponseSchema, gunzipSync(message)).greeting, "Hello, Ada!", what);
    }
  });

  it("gRPC: no compression for a client that does not accept it", async () => {
    const { head, flag } = await rawGrpc(server.url, {}, frame(0, requestBytes));
    assert.equal(head["grpc-encoding"], undefined);
    assert.equal(flag, 0);
  });

  it("Connect: content-encoding gzip is read, and the answer is br or gzip as accepted", async () => {
    const json = Buffer.from(JSON.stringify({ name: "Ada" }));
    for (const [what, requestEncoding, accept] of [
      ["plain request, accepts br (fast path)", undefined, "br"],
      ["gzip request, accepts gzip (connect-node)", "gzip", "gzip"],
    ] as const) {
      const { head, data: body } = await post(
        server.url,
        {
          "content-type": "application/json",
          "accept-encoding": accept,
          ...(requestEncoding && { "content-encoding": requestEncoding }),
        },
        requestEncoding ? gzipSync(json) : json,
      );
      assert.equal(head[":status"], 200, what);
      assert.equal(head["content-encoding"], accept, what);
      const text = (accept === "br" ? brotliDecompressSync(body) : gunzipSync(body)).toString();
      assert.deepEqual(JSON.parse(text), { greeting: "Hello, Ada!", language: "en" }, what);
    }
  });
});
