import assert from "node:assert/strict";
import http from "node:http";
import type http2 from "node:http2";
import { after, before, describe, it } from "node:test";
import { create, toBinary } from "@bufbuild/protobuf";
import { GreetingRequestSchema } from "@greeter/proto/greeter/v1/greeter_pb.js";
import { comparableBody, frame, h2Request } from "./raw-requests.js";
import { startTestServer, type TestServer } from "./testing.js";

// The same bytes sent to the server with the fast path on and with it off
// (FAST_PATH=false: connect-fastify answers everything) must get the same
// answer: status, content type, gRPC status and message as sent, and an
// x-request-id either way.

interface Answer {
  status: number;
  contentType: string | undefined;
  grpcStatus: string | undefined;
  /** grpc-message as sent, not decoded: both paths must encode it alike. */
  grpcMessage: string | undefined;
  requestId: boolean;
  body: string;
}

async function h2Answer(url: string, headers: http2.OutgoingHttpHeaders, body: Buffer): Promise<Answer> {
  const res = await h2Request(url, { ":path": GREET, ...headers }, body);
  const pick = (name: string) => (res.trailers[name] ?? res.headers[name]) as string | undefined;
  return {
    status: res.status,
    contentType: res.headers["content-type"],
    grpcStatus: pick("grpc-status"),
    grpcMessage: pick("grpc-message"),
    requestId: pick("x-request-id") !== undefined,
    body: res.body.toString("latin1"),
  };
}

function h1Answer(url: string, headers: http.OutgoingHttpHeaders, body: Buffer): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${url}${GREET}`, { method: "POST", headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString("latin1");
        // gRPC-Web: the status is in the trailer frame at the end of the body.
        const status = /grpc-status:\s*(\d+)/.exec(text)?.[1];
        const message = /grpc-message:\s*([^\r\n]*)/.exec(text)?.[1];
        resolve({
          status: res.statusCode ?? 0,
          contentType: res.headers["content-type"],
          grpcStatus: status,
          grpcMessage: message,
          requestId: typeof res.headers["x-request-id"] === "string" || /x-request-id:/.test(text),
          body: comparableBody(Buffer.from(text, "latin1")),
        });
      });
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(body);
  });
}

const GREET = "/greeter.v1.Greeter/Greet";
const ada = toBinary(GreetingRequestSchema, create(GreetingRequestSchema, { name: "Ada" }));
// An empty name breaks the validation rule: INVALID_ARGUMENT with a message
// full of characters that gRPC and connect-es percent-encode differently.
const noName = toBinary(GreetingRequestSchema, create(GreetingRequestSchema, { name: "" }));
const GRPC = { "content-type": "application/grpc", te: "trailers" };
const GRPC_WEB = { "content-type": "application/grpc-web+proto", "x-grpc-web": "1" };

const bodies: Record<string, Buffer> = {
  "a length prefix of 100 MB and 5 bytes": frame(new Uint8Array(), 100_000_000),
  "an empty body": Buffer.alloc(0),
  "two messages": Buffer.concat([frame(ada), frame(ada)]),
  "a message cut short": frame(ada).subarray(0, 7),
  "the compressed flag without grpc-encoding": frame(ada, ada.length, 1),
  "a name the validation rule refuses": frame(noName),
  "bytes that are not a GreetingRequest": frame(Buffer.from([0xff, 0xff, 0xff])),
  "a second message declaring 100 MB": Buffer.concat([frame(ada), frame(new Uint8Array(), 100_000_000)]),
};

let fast: TestServer;
let slow: TestServer;
before(async () => {
  [fast, slow] = await Promise.all([startTestServer({ fastPath: true }), startTestServer({ fastPath: false })]);
});
after(() => Promise.all([fast.close(), slow.close()]));

describe("the fast path answers as connect-node does (the same bytes, FAST_PATH=true and false)", () => {
  for (const [name, body] of Object.entries(bodies)) {
    it(`gRPC over HTTP/2: ${name}`, async () => {
      const [a, b] = await Promise.all([h2Answer(fast.url, GRPC, body), h2Answer(slow.url, GRPC, body)]);
      assert.deepEqual(a, b);
    });
    it(`gRPC-Web over HTTP/1.1: ${name}`, async () => {
      const [a, b] = await Promise.all([h1Answer(fast.url, GRPC_WEB, body), h1Answer(slow.url, GRPC_WEB, body)]);
      assert.deepEqual(a, b);
    });
  }

  it("a gRPC bad timeout header", async () => {
    const headers = { ...GRPC, "grpc-timeout": "soon" };
    const [a, b] = await Promise.all([
      h2Answer(fast.url, headers, frame(ada)),
      h2Answer(slow.url, headers, frame(ada)),
    ]);
    assert.deepEqual(a, b);
    assert.equal(a.grpcStatus, "3");
  });

  it("100 MB declared: RESOURCE_EXHAUSTED, as gzip-encoded calls (connect-node either way) get", async () => {
    const plain = await h2Answer(fast.url, GRPC, bodies["a length prefix of 100 MB and 5 bytes"] as Buffer);
    assert.equal(plain.grpcStatus, "8");
    assert.match(
      decodeURIComponent(plain.grpcMessage ?? ""),
      /message size 100000000 is larger than configured readMaxBytes/,
    );
  });
});
