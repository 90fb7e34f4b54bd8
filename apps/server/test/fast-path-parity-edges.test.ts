import assert from "node:assert/strict";
import http from "node:http";
import type http2 from "node:http2";
import { after, before, describe, it } from "node:test";
import { create, toBinary } from "@bufbuild/protobuf";
import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import { errorFromJson } from "@connectrpc/connect/protocol-connect";
import { GreetingRequestSchema, GreetStreamRequestSchema } from "@greeter/proto/greeter/v1/greeter_pb.js";
import { comparableBody, frame, h2Request } from "./raw-requests.js";
import { startTestServer, type TestServer } from "./testing.js";

// The same request sent to the server with the fast path on and with it off
// (FAST_PATH=false: connect-fastify answers everything) gets the same
// answer, where the conformance suite does not look: errors that carry
// metadata, compression negotiation, long deadlines.

/** The request header that makes {@link failWithMetadata} fail a call, and how. */
const FAIL = "x-test-fail";

/** Metadata no answer may carry over: each names a header of the protocol itself. */
const PROTOCOL_METADATA = {
  "content-encoding": "gzip",
  "content-type": "text/html",
  "grpc-status": "0",
  "grpc-message": "all is well",
  "grpc-encoding": "gzip",
  "connect-content-encoding": "gzip",
};

/**
 * Fails calls that ask for it: `metadata`, an error of this server's own
 * carrying protocol headers and one of its own (`x-kept`); `wire`, the same
 * as if received from another server; `long`, a message of 2 KiB.
 */
const failWithMetadata: Interceptor = (next) => async (req) => {
  const how = req.header.get(FAIL);
  if (how === null) return next(req);
  const metadata = { ...PROTOCOL_METADATA, "x-kept": "yes" };
  if (how === "wire") {
    throw errorFromJson(
      { code: "failed_precondition", message: "refused upstream" },
      metadata,
      new ConnectError("unreadable", Code.Unknown),
    );
  }
  throw new ConnectError(how === "long" ? "x".repeat(2048) : "refused", Code.FailedPrecondition, metadata);
};

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/**
 * The headers worth comparing: not those new on every answer, those that
 * frame the body (content-length or chunked: the fast path knows its length
 * up front) or CORS headers Fastify adds to every answer, not to a browser's
 * alone.
 */
const IGNORED = new Set([
  "date",
  "x-request-id",
  "connection",
  "keep-alive",
  "vary",
  "content-length",
  "transfer-encoding",
  "access-control-expose-headers",
]);

function comparableHeaders(headers: http.IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of Object.keys(headers).sort()) {
    if (!key.startsWith(":") && !IGNORED.has(key)) out[key] = String(headers[key]);
  }
  return out;
}

function h1Answer(url: string, path: string, headers: http.OutgoingHttpHeaders, body: Buffer): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${url}${path}`, { method: "POST", headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: comparableHeaders(res.headers),
          body: comparableBody(Buffer.concat(chunks)),
        }),
      );
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(body);
  });
}

async function h2Answer(url: string, headers: http2.OutgoingHttpHeaders, body: Buffer): Promise<Answer> {
  const res = await h2Request(url, headers, body);
  const trailers = comparableHeaders(res.trailers as http.IncomingHttpHeaders);
  return {
    status: res.status,
    headers: { ...comparableHeaders(res.headers as http.IncomingHttpHeaders), ...trailers },
    body: comparableBody(res.body),
  };
}

const GREET = "/greeter.v1.Greeter/Greet";
const GREET_STREAM = "/greeter.v1.Greeter/GreetStream";
const ada = frame(toBinary(GreetingRequestSchema, create(GreetingRequestSchema, { name: "Ada" })));

let fast: TestServer;
let slow: TestServer;
before(async () => {
  const options = { innerInterceptors: [failWithMetadata] };
  [fast, slow] = await Promise.all([
    startTestServer({ fastPath: true }, options),
    startTestServer({ fastPath: false }, options),
  ]);
});
after(() => Promise.all([fast.close(), slow.close()]));

const connectJson = { "content-type": "application/json" };
const GRPC = { "content-type": "application/grpc", te: "trailers" };
const GRPC_WEB = { "content-type": "application/grpc-web+proto" };
const CONNECT_STREAM = { "content-type": "application/connect+json" };
const adaJson = Buffer.from('{"name":"Ada"}');
const adaStreamJson = Buffer.from('{"name":"Ada","count":2}');
const adaStream = frame(
  toBinary(GreetStreamRequestSchema, create(GreetStreamRequestSchema, { name: "Ada", count: 2 })),
);

/** The same request to both servers: HTTP/2 when `headers` has a `:path`, else HTTP/1.1. */
async function both(path: string, headers: Record<string, string>, body: Buffer): Promise<[Answer, Answer]> {
  const ask = (url: string) =>
    headers.te === "trailers" ? h2Answer(url, { ":path": path, ...headers }, body) : h1Answer(url, path, headers, body);
  return Promise.all([ask(fast.url), ask(slow.url)]);
}

describe("an error's metadata: protocol headers left out, as connect-node (2.2+) does", () => {
  const calls = {
    "Connect unary": [GREET, connectJson, adaJson],
    gRPC: [GREET, GRPC, ada],
    "gRPC-Web": [GREET, GRPC_WEB, ada],
    "Connect server stream (end-stream metadata)": [GREET_STREAM, CONNECT_STREAM, frame(adaJson)],
    "gRPC server stream": [GREET_STREAM, GRPC, ada],
    "gRPC-Web server stream": [GREET_STREAM, GRPC_WEB, ada],
  } as const;
  for (const [name, [path, headers, body]] of Object.entries(calls)) {
    it(`${name}: an error of this server's own keeps its own metadata only`, async () => {
      const [a, b] = await both(path, { ...headers, [FAIL]: "metadata", "accept-encoding": "gzip" }, body);
      assert.deepEqual(a, b);
      assert.equal(a.headers["x-kept"] ?? (/x-kept/.test(a.body) ? "yes" : undefined), "yes");
      assert.equal(a.headers["content-encoding"], undefined);
      assert.doesNotMatch(a.body, /all is well|text\/html/);
    });
    it(`${name}: an error from another server relays its payload alone`, async () => {
      const [a, b] = await both(path, { ...headers, [FAIL]: "wire" }, body);
      assert.deepEqual(a, b);
      assert.equal(a.headers["x-kept"], undefined);
      assert.doesNotMatch(a.body, /x-kept/);
    });
  }
});

describe("compression: the encoding connect-node negotiates, in the client's order, never one refused", () => {
  // Every answer long enough to compress, so that the choice shows.
  let fastCompressing: TestServer;
  let slowCompressing: TestServer;
  before(async () => {
    const options = { innerInterceptors: [failWithMetadata] };
    [fastCompressing, slowCompressing] = await Promise.all([
      startTestServer({ fastPath: true, compressMinBytes: 1 }, options),
      startTestServer({ fastPath: false, compressMinBytes: 1 }, options),
    ]);
  });
  after(() => Promise.all([fastCompressing.close(), slowCompressing.close()]));

  const bothCompressing = (path: string, headers: Record<string, string>, body: Buffer) =>
    Promise.all(
      [fastCompressing, slowCompressing].map((server) =>
        headers.te === "trailers"
          ? h2Answer(server.url, { ":path": path, ...headers }, body)
          : h1Answer(server.url, path, headers, body),
      ),
    );

  const accepted = ["gzip;q=0, br", "gzip;q=0.5, br", "br, gzip", "gzip, br", " br ,gzip", "deflate, br", "*", ""];
  const calls = {
    "Connect unary": [GREET, connectJson, adaJson, "accept-encoding"],
    "gRPC unary": [GREET, GRPC, ada, "grpc-accept-encoding"],
    "gRPC-Web unary": [GREET, GRPC_WEB, ada, "grpc-accept-encoding"],
    "Connect server stream": [GREET_STREAM, CONNECT_STREAM, frame(adaStreamJson), "connect-accept-encoding"],
    "gRPC server stream": [GREET_STREAM, GRPC, adaStream, "grpc-accept-encoding"],
    "gRPC-Web server stream": [GREET_STREAM, GRPC_WEB, adaStream, "grpc-accept-encoding"],
  } as const;
  for (const [name, [path, headers, body, header]] of Object.entries(calls)) {
    it(`${name}: ${header} as clients send it`, async () => {
      for (const value of accepted) {
        const [a, b] = await bothCompressing(path, { ...headers, [header]: value }, body);
        assert.deepEqual(a, b, `${header}: ${value}`);
      }
    });
    it(`${name}: ${header}, messages under compressMinBytes`, async () => {
      for (const value of accepted) {
        const [a, b] = await both(path, { ...headers, [header]: value }, body);
        assert.deepEqual(a, b, `${header}: ${value}`);
      }
    });
  }

  it("gzip;q=0, br: br, not the gzip the client refused", async () => {
    const [a] = await bothCompressing(GREET, { ...connectJson, "accept-encoding": "gzip;q=0, br" }, adaJson);
    assert.equal(a?.headers["content-encoding"], "br");
  });

  it("Connect unary: a long error's JSON body is compressed too", async () => {
    const headers = { ...connectJson, [FAIL]: "long", "accept-encoding": "gzip;q=0, br" };
    const [a, b] = await bothCompressing(GREET, headers, adaJson);
    assert.deepEqual(a, b);
    assert.equal(a?.headers["content-encoding"], "br");
  });
});

describe("long deadlines: served, clamped to setTimeout's longest, on both paths", () => {
  // Two greetings 50 ms apart: connect-node, given a deadline setTimeout
  // cannot hold, armed a timer Node fires after 1 ms, and cut the stream.
  const slowStream = (json: boolean) =>
    json
      ? frame(Buffer.from('{"name":"Ada","count":2,"intervalMs":50}'))
      : frame(
          toBinary(
            GreetStreamRequestSchema,
            create(GreetStreamRequestSchema, { name: "Ada", count: 2, intervalMs: 50 }),
          ),
        );
  const cases: [string, string, Record<string, string>, Buffer][] = [];
  for (const timeout of ["720H", "99999999H", "596524H"]) {
    cases.push([`gRPC unary, grpc-timeout: ${timeout}`, GREET, { ...GRPC, "grpc-timeout": timeout }, ada]);
    cases.push([`gRPC-Web unary, grpc-timeout: ${timeout}`, GREET, { ...GRPC_WEB, "grpc-timeout": timeout }, ada]);
    cases.push([
      `gRPC server stream, grpc-timeout: ${timeout}`,
      GREET_STREAM,
      { ...GRPC, "grpc-timeout": timeout },
      slowStream(false),
    ]);
    cases.push([
      `gRPC-Web server stream, grpc-timeout: ${timeout}`,
      GREET_STREAM,
      { ...GRPC_WEB, "grpc-timeout": timeout },
      slowStream(false),
    ]);
  }
  for (const timeout of ["9999999999", "2147483648"]) {
    const header = { "connect-timeout-ms": timeout };
    cases.push([`Connect unary, connect-timeout-ms: ${timeout}`, GREET, { ...connectJson, ...header }, adaJson]);
    cases.push([
      `Connect server stream, connect-timeout-ms: ${timeout}`,
      GREET_STREAM,
      { ...CONNECT_STREAM, ...header },
      slowStream(true),
    ]);
  }
  it("gRPC-Web text server stream, grpc-timeout: 720H (connect-node's handler behind the text translation)", async () => {
    const headers = { "content-type": "application/grpc-web-text", "grpc-timeout": "720H" };
    const body = Buffer.from(slowStream(false).toString("base64"));
    const [a, b] = await Promise.all(
      [fast, slow].map(async (server) => {
        const answer = await h1Answer(server.url, GREET_STREAM, headers, body);
        // Each chunk is base64 of its own, padded: decode them one by one.
        const chunks = answer.body.split(/(?<==)(?=[^=])/).map((chunk) => Buffer.from(chunk, "base64"));
        return comparableBody(Buffer.concat(chunks));
      }),
    );
    assert.equal(a, b);
    assert.match(a ?? "", /grpc-status: 0/);
  });

  for (const [name, path, headers, body] of cases) {
    it(name, async () => {
      const [a, b] = await both(path, headers, body);
      assert.deepEqual(a, b);
      assert.equal(a.status, 200);
      assert.doesNotMatch(a.body, /timeout|deadline|invalid/i);
      assert.ok(a.headers["grpc-status"] === "0" || /grpc-status: 0|Hello, Ada/.test(a.body), a.body);
      if (path === GREET_STREAM) assert.match(a.body, /Hola|Bonjour|Hallo|Ciao|Olá|こんにちは/);
    });
  }
});

describe("found by the differential test (apps/conformance/test/differential.test.ts)", () => {
  const cut = ada.subarray(0, ada.length - 2);
  const badDeadline = /invalid(%20| )grpc(%20| )timeout(%20| )value/;
  // Each with what the answer must show, so that a case cannot pass by both paths failing alike.
  const cases: [string, string, Record<string, string>, Buffer, RegExp][] = [
    // The fast path echoed the request's content type, and took a charset on a binary stream, which connect-node refuses.
    [
      "Connect stream, JSON with a charset: answered as application/connect+json",
      GREET_STREAM,
      { "content-type": "application/connect+json; charset=utf-8" },
      frame(adaStreamJson),
      /"content-type":"application\/connect\+json"/,
    ],
    [
      "Connect stream, upper case: answered as application/connect+json",
      GREET_STREAM,
      { "content-type": "APPLICATION/CONNECT+JSON" },
      frame(adaStreamJson),
      /"content-type":"application\/connect\+json"/,
    ],
    [
      "Connect stream, binary with a charset: refused as connect-node refuses it",
      GREET_STREAM,
      { "content-type": "application/connect+proto; charset=utf-8" },
      adaStream,
      /"status":415/,
    ],
    // A bad deadline header and a bad body: connect-node names the deadline, which it reads first.
    ["gRPC unary, grpc-timeout soon and a cut envelope", GREET, { ...GRPC, "grpc-timeout": "soon" }, cut, badDeadline],
    [
      "gRPC-Web unary, grpc-timeout soon and two messages",
      GREET,
      { ...GRPC_WEB, "grpc-timeout": "soon" },
      Buffer.concat([ada, ada]),
      badDeadline,
    ],
    [
      "gRPC server stream, grpc-timeout soon and no message",
      GREET_STREAM,
      { ...GRPC, "grpc-timeout": "soon" },
      Buffer.alloc(0),
      badDeadline,
    ],
    [
      "Connect unary, connect-timeout-ms soon and bad JSON",
      GREET,
      { ...connectJson, "connect-timeout-ms": "soon" },
      Buffer.from("{"),
      /invalid_argument.*timeout/,
    ],
    // An envelope with the end flag is no message to connect-node.
    [
      "Connect stream, a message and an envelope flagged end-stream",
      GREET_STREAM,
      CONNECT_STREAM,
      Buffer.concat([frame(adaStreamJson), frame(Buffer.from("{}"), 2, 2)]),
      /Ada/,
    ],
    [
      "gRPC-Web unary, a message and a trailer-flagged envelope",
      GREET,
      GRPC_WEB,
      Buffer.concat([ada, frame(Buffer.alloc(0), 0, 0x80)]),
      /Hello, Ada/,
    ],
  ];
  for (const [name, path, headers, body, shows] of cases) {
    it(name, async () => {
      const [a, b] = await both(path, headers, body);
      assert.deepEqual(a, b);
      assert.match(JSON.stringify(a), shows);
    });
  }
});
