import assert from "node:assert/strict";
import net from "node:net";
import { after, before, describe, it } from "node:test";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { Greeter } from "@greeter/proto/greeter/v1/greeter_pb.js";
import { frame, h2Request, type RawResponse } from "./raw-requests.js";
import { startTestServer, type TestServer } from "./testing.js";

const GRPC = { "content-type": "application/grpc", te: "trailers" };
const GREET = "/greeter.v1.Greeter/Greet";

/** The grpc-status a gRPC response ended with, wherever the server put it. */
const grpcStatus = (res: RawResponse): number => Number(res.trailers["grpc-status"] ?? res.headers["grpc-status"]);
/** The grpc-message, decoded. */
const grpcMessage = (res: RawResponse): string =>
  decodeURIComponent(String(res.trailers["grpc-message"] ?? res.headers["grpc-message"] ?? ""));

let server: TestServer;
before(async () => {
  server = await startTestServer({ maxMessageBytes: 1024 });
});
after(async () => {
  await server.close();
});

/** Every bad request must leave the server answering the next good one. */
async function assertStillServing(): Promise<void> {
  const client = createClient(Greeter, createGrpcTransport({ baseUrl: server.url }));
  assert.equal((await client.greet({ name: "Ada" })).greeting, "Hello, Ada!");
}

describe("bad input over gRPC", () => {
  it("a frame shorter than its declared length: INVALID_ARGUMENT", async () => {
    const res = await h2Request(server.url, { ":path": GREET, ...GRPC }, frame(Buffer.from([0x0a, 0x03]), 100));
    assert.equal(grpcStatus(res), 3);
    assert.equal(grpcMessage(res), "protocol error: incomplete envelope");
    await assertStillServing();
  });

  it("bytes that are not a protobuf message: INTERNAL, as grpc-go and connect-es answer it", async () => {
    const res = await h2Request(server.url, { ":path": GREET, ...GRPC }, frame(Buffer.from([0xff, 0xff, 0xff])));
    assert.equal(grpcStatus(res), 13);
    assert.match(grpcMessage(res), /^parse binary: /);
    await assertStillServing();
  });

  it("a message over the size limit: RESOURCE_EXHAUSTED", async () => {
    const name = Buffer.alloc(2000, "a");
    const message = Buffer.concat([Buffer.from([0x0a, 0xd0, 0x0f]), name]); // field 1, length 2000
    const res = await h2Request(server.url, { ":path": GREET, ...GRPC }, frame(message));
    assert.equal(grpcStatus(res), 8);
    await assertStillServing();
  });

  it("a compressed frame with no compression declared: INTERNAL, no crash", async () => {
    const message = frame(Buffer.from([0x0a, 0x01, 0x41]));
    message[0] = 1;
    const res = await h2Request(server.url, { ":path": GREET, ...GRPC }, message);
    assert.notEqual(grpcStatus(res), 0);
    await assertStillServing();
  });

  it("an unsupported grpc-encoding: UNIMPLEMENTED", async () => {
    const res = await h2Request(
      server.url,
      { ":path": GREET, ...GRPC, "grpc-encoding": "snappy" },
      frame(Buffer.from([0x0a, 0x01, 0x41])),
    );
    assert.equal(grpcStatus(res), 12);
    await assertStillServing();
  });

  it("an unknown method: UNIMPLEMENTED", async () => {
    const res = await h2Request(server.url, { ":path": "/greeter.v1.Greeter/Shout", ...GRPC }, frame(Buffer.alloc(0)));
    assert.equal(grpcStatus(res), 12);
    assert.equal(grpcMessage(res), "no such method or route: POST /greeter.v1.Greeter/Shout");
    await assertStillServing();
  });

  it("a malformed grpc-timeout: rejected, not ignored", async () => {
    const res = await h2Request(
      server.url,
      { ":path": GREET, ...GRPC, "grpc-timeout": "soon" },
      frame(Buffer.from([0x0a, 0x01, 0x41])),
    );
    assert.notEqual(grpcStatus(res), 0);
    await assertStillServing();
  });
});

describe("bad input over Connect and gRPC-Web (HTTP/1.1)", () => {
  const post = (path: string, contentType: string, body: BodyInit) =>
    fetch(`${server.url}${path}`, { method: "POST", headers: { "content-type": contentType }, body });

  it("a content-type no protocol knows: 415", async () => {
    const res = await post(GREET, "text/plain", "Ada");
    assert.equal(res.status, 415);
    await assertStillServing();
  });

  it("JSON that does not parse: 400 invalid_argument", async () => {
    const res = await post(GREET, "application/json", '{"name":');
    assert.equal(res.status, 400);
    assert.equal(((await res.json()) as { code: string }).code, "invalid_argument");
    await assertStillServing();
  });

  it("JSON with a field the message lacks: 400 invalid_argument", async () => {
    const res = await post(GREET, "application/json", '{"nom":"Ada"}');
    assert.equal(res.status, 400);
    assert.equal(((await res.json()) as { code: string }).code, "invalid_argument");
  });

  it("an unknown procedure: 404 with code unimplemented", async () => {
    const res = await post("/greeter.v1.Greeter/Shout", "application/json", "{}");
    assert.equal(res.status, 404);
    assert.equal(((await res.json()) as { code: string }).code, "unimplemented");
  });

  it("a truncated gRPC-Web frame: error status in the trailer", async () => {
    const res = await post(GREET, "application/grpc-web+proto", new Uint8Array(frame(Buffer.from([0x0a]), 50)));
    assert.equal(res.status, 200);
    const body = Buffer.from(await res.arrayBuffer());
    assert.match(body.toString("latin1"), /grpc-status: ?3/);
    await assertStillServing();
  });
});

describe("bad bytes on the socket", () => {
  async function sendRaw(bytes: Buffer): Promise<string> {
    return new Promise((resolve) => {
      const socket = net.connect(server.port, "127.0.0.1", () => socket.end(bytes));
      let got = "";
      socket.on("data", (d) => {
        got += d.toString("latin1");
      });
      socket.on("error", () => {});
      socket.on("close", () => resolve(got));
    });
  }

  it("garbage instead of HTTP: 400 and the connection closes", async () => {
    const answer = await sendRaw(Buffer.from("\x16\x03\x01 not http at all\r\n\r\n"));
    assert.match(answer, /^HTTP\/1\.1 400/);
    await assertStillServing();
  });

  it("an HTTP/2 preface followed by garbage: the connection closes", async () => {
    const answer = await sendRaw(Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x01\x99garbage-garbage"));
    assert.ok(answer.length < 200, "the server answered garbage with more than a SETTINGS/GOAWAY");
    await assertStillServing();
  });
});
