import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import http2 from "node:http2";
import net from "node:net";
import { Duplex } from "node:stream";
import { after, before, describe, it } from "node:test";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { createBearerTokenInterceptor } from "@greeter/interceptors";
import { mintToken } from "@greeter/interceptors/server";
import { Greeter } from "@greeter/proto/greeter/v1/greeter_pb.js";
import { GREETER_SCOPE } from "../../src/access-policy.js";
import { frame } from "../raw-requests.js";
import { captureLogs, startTestServer, type TestServer } from "../testing.js";

const secret = randomBytes(32).toString("base64url");
const key = new TextEncoder().encode(secret);
const token = (options: { key?: Uint8Array; ttlSeconds?: number } = {}) =>
  mintToken({ key, subject: "ada", audience: "greeter", scopes: [GREETER_SCOPE], ...options });

/** An HPACK string literal, not Huffman-coded (RFC 7541 §5.2), its length a 7-bit-prefix integer. */
function hpackString(value: string): Buffer {
  const bytes = Buffer.from(value);
  const length: number[] = [];
  if (bytes.length < 127) length.push(bytes.length);
  else {
    length.push(127);
    let rest = bytes.length - 127;
    while (rest >= 128) {
      length.push((rest % 128) + 128);
      rest = Math.floor(rest / 128);
    }
    length.push(rest);
  }
  return Buffer.concat([Buffer.from(length), bytes]);
}

/**
 * A socket for Node's HTTP/2 client that appends `authorization: <value>`,
 * a second field of that name, to the header block of every HEADERS frame
 * it sends: Node's client refuses to send two itself. A literal field
 * without indexing leaves the HPACK tables of both sides as they were.
 */
function socketAddingAuthorization(port: number, value: string): Duplex {
  const extra = Buffer.concat([Buffer.from([0x00]), hpackString("authorization"), hpackString(value)]);
  const socket = net.connect(port, "127.0.0.1");
  let pending = Buffer.alloc(0);
  let prefaceSeen = false;
  const duplex = new Duplex({
    write(chunk: Buffer, _encoding, callback) {
      pending = Buffer.concat([pending, chunk]);
      const out: Buffer[] = [];
      if (!prefaceSeen) {
        if (pending.length < 24) return callback();
        out.push(pending.subarray(0, 24));
        pending = pending.subarray(24);
        prefaceSeen = true;
      }
      while (pending.length >= 9) {
        const length = pending.readUIntBE(0, 3);
        if (pending.length < 9 + length) break;
        let frame = pending.subarray(0, 9 + length);
        pending = pending.subarray(9 + length);
        // HEADERS with END_HEADERS, no padding nor priority (what Node sends).
        if (frame[3] === 1 && ((frame[4] as number) & 0x2c) === 0x04) {
          frame = Buffer.concat([frame, extra]);
          frame.writeUIntBE(length + extra.length, 0, 3);
        }
        out.push(frame);
      }
      socket.write(Buffer.concat(out), callback);
    },
    read() {},
    final(callback) {
      socket.end(callback);
    },
    destroy(error, callback) {
      socket.destroy();
      callback(error);
    },
  });
  socket.on("data", (data: Buffer) => duplex.push(data));
  socket.on("end", () => duplex.push(null));
  socket.on("error", (error) => duplex.destroy(error));
  return duplex;
}

describe("more than one authorization value, and what auth errors say", () => {
  const logs = captureLogs();
  let server: TestServer;
  before(async () => {
    server = await startTestServer(
      { authRequired: true, authJwtSecret: secret, logLevel: "info" },
      { logDestination: logs.destination },
    );
  });
  after(() => server.close());

  const refusal = (promise: Promise<unknown>) =>
    promise.then(
      () => assert.fail("the call must be refused"),
      (e: unknown) => ConnectError.from(e),
    );

  it("is refused over gRPC when the second field is forged (two HTTP/2 header fields)", async () => {
    const valid = await token();
    const forged = await token({ key: randomBytes(32) });
    /** A raw gRPC Greet with `authorization: Bearer <first>` (if given), and the socket's field. */
    const greet = (first: string | undefined, second: string) =>
      new Promise<{ status: string; message: string }>((resolve, reject) => {
        const session = http2.connect(server.url, {
          createConnection: () => socketAddingAuthorization(server.port, `Bearer ${second}`),
        });
        session.on("error", reject);
        const stream = session.request({
          ":method": "POST",
          ":path": "/greeter.v1.Greeter/Greet",
          "content-type": "application/grpc",
          te: "trailers",
          ...(first === undefined ? {} : { authorization: `Bearer ${first}` }),
        });
        let head: http2.IncomingHttpHeaders = {};
        stream.on("response", (h) => {
          head = h;
        });
        stream.on("trailers", (t) => {
          head = { ...head, ...t };
        });
        stream.on("error", reject);
        stream.on("close", () => {
          session.close();
          resolve({
            status: String(head["grpc-status"]),
            message: decodeURIComponent(String(head["grpc-message"] ?? "")),
          });
        });
        stream.resume();
        stream.end(frame(Buffer.from([0x0a, 3, 0x41, 0x64, 0x61])));
      });
    for (const [first, second] of [
      [valid, forged],
      [valid, valid],
    ] as const) {
      const answer = await greet(first, second);
      assert.equal(answer.status, String(Code.Unauthenticated));
      assert.equal(answer.message, "more than one authorization value was sent: send exactly one 'Bearer <token>'");
    }
    // The same socket's field alone, to show the test's socket is sound.
    assert.equal((await greet(undefined, valid)).status, "0");
  });

  it("is refused over HTTP/1.1 when the request head has two fields (Connect)", async () => {
    const body = JSON.stringify({ name: "Ada" });
    const head = [
      "POST /greeter.v1.Greeter/Greet HTTP/1.1",
      `Host: 127.0.0.1:${server.port}`,
      "Content-Type: application/json",
      `Authorization: Bearer ${await token()}`,
      `authorization: Bearer ${await token({ key: randomBytes(32) })}`,
      `Content-Length: ${body.length}`,
      "Connection: close",
    ];
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = net.connect(server.port, "127.0.0.1");
      let text = "";
      socket.on("data", (d: Buffer) => {
        text += d.toString();
      });
      socket.on("end", () => resolve(text));
      socket.on("error", reject);
      socket.end(`${head.join("\r\n")}\r\n\r\n${body}`);
    });
    assert.match(answer, /^HTTP\/1\.1 401 /);
    assert.match(answer, /"code":"unauthenticated","message":"more than one authorization value was sent/);
  });

  it("is refused over Connect when one field holds two values", async () => {
    const transport = createConnectTransport({
      baseUrl: server.url,
      httpVersion: "2",
      interceptors: [
        (next) => async (req) => {
          req.header.append("authorization", `Bearer ${await token()}`);
          req.header.append("authorization", `Bearer ${await token()}`);
          return next(req);
        },
      ],
    });
    const error = await refusal(createClient(Greeter, transport).greet({ name: "Ada" }));
    assert.equal(error.code, Code.Unauthenticated);
    assert.match(error.rawMessage, /^more than one authorization value was sent/);
  });
});

// What the refusal says, on each path: the gate refuses before the
// interceptors, so the reason behind it reaches the log through the
// early-refusal report (a server of its own, so that the sampled warn
// lines of the cases above cannot crowd these out).
for (const fastPath of [true, false]) {
  describe(`what auth errors say (FAST_PATH=${fastPath})`, () => {
    const logs = captureLogs();
    let server: TestServer;
    before(async () => {
      server = await startTestServer(
        { authRequired: true, authJwtSecret: secret, logLevel: "info", fastPath },
        { logDestination: logs.destination },
      );
    });
    after(() => server.close());

    it("tell the client what is wrong, and leave jose's wording to the log", async () => {
      const cases = {
        "its signature does not match": await token({ key: randomBytes(32) }),
        "it has expired (exp)": await token({ ttlSeconds: -60 }),
        "it is not a well-formed JWT": "not-a-jwt",
      };
      for (const [reason, value] of Object.entries(cases)) {
        const client = createClient(
          Greeter,
          createGrpcTransport({ baseUrl: server.url, interceptors: [createBearerTokenInterceptor(value)] }),
        );
        const error = await client.greet({ name: "Ada" }).then(
          () => assert.fail("the call must be refused"),
          (e: unknown) => ConnectError.from(e),
        );
        assert.equal(error.code, Code.Unauthenticated);
        assert.equal(error.rawMessage, `the bearer token is not valid: ${reason}`);
      }
      const logged = logs.lines.map((l) => JSON.stringify(l)).join("\n");
      assert.match(logged, /signature verification failed/, "jose's own reason is in the log");
      assert.match(logged, /claim timestamp check failed/);
    });
  });
}
