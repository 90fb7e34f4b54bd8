import assert from "node:assert/strict";
import http2 from "node:http2";
import net from "node:net";
import { after, before, describe, it } from "node:test";
import { create, toBinary } from "@bufbuild/protobuf";
import { GreetStreamRequestSchema } from "@greeter/proto/greeter/v1/greeter_pb.js";
import { startTestServer, type TestServer } from "../testing.js";

// Auth runs as the router's request gate: a call without a valid token is
// answered without its message being read, on both paths. Each call here
// declares a large message and never sends all of it, so an answer proves
// the server did not wait for the message (an interceptor would: it runs
// only once the message is parsed).

const secret = "a-test-secret-that-is-long-enough-for-hs256";
const GREET = "/greeter.v1.Greeter/Greet";
const DECLARED = 1024 * 1024;
const SENT = 300 * 1024;

/** A gRPC call over h2c whose envelope header promises a 1 MiB message that never comes; resolves to its status. */
function grpcWithoutBody(port: number): Promise<{ status: string | undefined; message: string | undefined }> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(`http://127.0.0.1:${port}`);
    session.on("error", reject);
    const stream = session.request({
      ":method": "POST",
      ":path": GREET,
      "content-type": "application/grpc",
      te: "trailers",
    });
    const header = Buffer.alloc(5);
    header.writeUInt32BE(DECLARED, 1);
    stream.write(header);
    let headers: http2.IncomingHttpHeaders = {};
    stream.on("response", (h) => {
      headers = h;
    });
    stream.on("trailers", (t) => {
      headers = { ...headers, ...t };
    });
    stream.on("close", () => {
      session.close();
      resolve({ status: headers["grpc-status"] as string, message: headers["grpc-message"] as string });
    });
    stream.on("error", () => undefined);
    stream.resume();
  });
}

/**
 * A Connect POST over HTTP/1.1 whose Content-Length promises 1 MiB, of
 * which only the first 300 KiB are sent; resolves to the answer's head and
 * body. connect-node reads and drops up to 256 KiB of a refused call's
 * body before it answers, so that a keep-alive connection stays usable.
 */
function connectWithoutBody(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, "127.0.0.1");
    let text = "";
    socket.on("data", (d: Buffer) => {
      text += d.toString();
      if (/\r\n\r\n[\s\S]*\}$/.test(text)) {
        socket.destroy();
        resolve(text);
      }
    });
    socket.on("error", reject);
    socket.write(
      [
        `POST ${GREET} HTTP/1.1`,
        `Host: 127.0.0.1:${port}`,
        "Content-Type: application/json",
        `Content-Length: ${DECLARED}`,
        "",
        "",
      ].join("\r\n"),
    );
    socket.write(Buffer.alloc(SENT, "a"));
  });
}

for (const fastPath of [true, false]) {
  describe(`auth as the request gate (FAST_PATH=${fastPath})`, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer({ authRequired: true, authJwtSecret: secret, fastPath });
    });
    after(() => server.close());

    it("refuses a gRPC call without a token before its body arrives", async () => {
      const answer = await grpcWithoutBody(server.port);
      assert.equal(answer.status, "16");
      assert.match(decodeURIComponent(answer.message ?? ""), /needs a bearer token/);
    });

    it("refuses a gRPC-Web text stream without a token, and counts it as an early refusal with its request id", async () => {
      // Text-mode streams run connect-node's handler, translated around by
      // the fast path (or its completions): the same gate, and the refusal
      // reported as every other one is.
      const message = toBinary(GreetStreamRequestSchema, create(GreetStreamRequestSchema, { name: "Ada" }));
      const frame = Buffer.alloc(5 + message.length);
      frame.writeUInt32BE(message.length, 1);
      frame.set(message, 5);
      const res = await fetch(`${server.url}/greeter.v1.Greeter/GreetStream`, {
        method: "POST",
        headers: { "content-type": "application/grpc-web-text", "x-request-id": "text-mode-refusal" },
        body: frame.toString("base64"),
      });
      const text = Buffer.from(await res.text(), "base64").toString("latin1");
      assert.match(text, /grpc-status: ?16/);
      assert.equal(res.headers.get("x-request-id"), "text-mode-refusal");
      const counted = await server.metrics.getSingleMetricAsString("greeter_rpc_refused_total");
      assert.match(counted, /procedure="\/greeter\.v1\.Greeter\/GreetStream",code="unauthenticated"\} 1/);
    });

    it("refuses a Connect call without a token before its body arrives", async () => {
      const answer = await connectWithoutBody(server.port);
      assert.match(answer, /^HTTP\/1\.1 401 /);
      assert.match(answer, /"code":"unauthenticated"/);
    });
  });
}
