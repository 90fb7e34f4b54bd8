import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { gzipSync } from "node:zlib";
import { frame, h2Request } from "./raw-requests.js";
import { startTestServer, type TestServer } from "./testing.js";

/** `{"name":"A\xff\xfeB"}`: JSON whose string holds two bytes that are not UTF-8. */
const BAD_JSON = Buffer.concat([Buffer.from('{"name":"A'), Buffer.from([0xff, 0xfe]), Buffer.from('B"}')]);
/** The same cut inside a two-byte character: `é` is 0xc3 0xa9. */
const CUT_JSON = Buffer.concat([Buffer.from('{"name":"A'), Buffer.from([0xc3]), Buffer.from('"}')]);
const GOOD_JSON = Buffer.from('{"name":"Adé"}');

// Each case once through the fast path and once through connect-node.
for (const fastPath of [true, false]) {
  describe(`invalid UTF-8 in a JSON string is refused, never replaced (FAST_PATH=${fastPath})`, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer({ fastPath });
    });
    after(() => server.close());

    const connectUnary = (body: Buffer) =>
      fetch(`${server.url}/greeter.v1.Greeter/Greet`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: new Uint8Array(body),
      });

    it("Connect unary over HTTP/1.1: INVALID_ARGUMENT", async () => {
      for (const body of [BAD_JSON, CUT_JSON]) {
        const res = await connectUnary(body);
        const answer = (await res.json()) as { code?: string; message?: string; greeting?: string };
        assert.equal(res.status, 400, JSON.stringify(answer));
        assert.equal(answer.code, "invalid_argument");
        assert.match(answer.message ?? "", /UTF-8/);
      }
      const ok = (await (await connectUnary(GOOD_JSON)).json()) as { greeting: string };
      assert.equal(ok.greeting, "Hello, Adé!");
    });

    it("Connect server stream (JSON envelopes) over HTTP/2: INVALID_ARGUMENT in the end-of-stream frame", async () => {
      const res = await h2Request(
        server.url,
        { ":path": "/greeter.v1.Greeter/GreetStream", "content-type": "application/connect+json" },
        frame(Buffer.concat([Buffer.from('{"count":1,"name":"A'), Buffer.from([0xff]), Buffer.from('"}')])),
      );
      const text = res.body.toString("latin1");
      assert.match(text, /"code":"invalid_argument"/);
      assert.match(text, /UTF-8/);
      assert.doesNotMatch(text, /Hello/);
    });

    it("gRPC with the JSON codec over HTTP/2: INVALID_ARGUMENT", async () => {
      const res = await h2Request(
        server.url,
        { ":path": "/greeter.v1.Greeter/Greet", "content-type": "application/grpc+json", te: "trailers" },
        frame(BAD_JSON),
      );
      const status = res.trailers["grpc-status"] ?? res.headers["grpc-status"];
      assert.equal(String(status), "3");
    });
  });
}

for (const fastPath of [true, false]) {
  describe(`invalid UTF-8 in a Connect GET's JSON message is refused (FAST_PATH=${fastPath})`, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer({ fastPath });
    });
    after(() => server.close());

    const get = async (query: string) => {
      const res = await fetch(`${server.url}/greeter.v1.Greeter/Greet?${query}`);
      return { status: res.status, body: (await res.json()) as { code?: string; greeting?: string } };
    };

    it("percent-encoded or base64: INVALID_ARGUMENT; UTF-8 is served", async () => {
      const percent = await get(`encoding=json&message=${encodeURIComponent('{"name":"A')}%FF%FEB%22%7D`);
      assert.equal(percent.status, 400, JSON.stringify(percent.body));
      assert.equal(percent.body.code, "invalid_argument");
      const base64 = await get(`encoding=json&base64=1&message=${BAD_JSON.toString("base64url")}`);
      assert.equal(base64.body.code, "invalid_argument");
      const good = await get(`encoding=json&message=${encodeURIComponent(GOOD_JSON.toString())}`);
      assert.equal(good.body.greeting, "Hello, Adé!");
    });
  });
}

describe("invalid UTF-8 in a compressed JSON message is refused too (connect-node's path)", () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(() => server.close());

  it("Connect unary with content-encoding gzip: INVALID_ARGUMENT; UTF-8 is served", async () => {
    const call = (json: Buffer) =>
      fetch(`${server.url}/greeter.v1.Greeter/Greet`, {
        method: "POST",
        headers: { "content-type": "application/json", "content-encoding": "gzip" },
        body: new Uint8Array(gzipSync(json)),
      });
    const bad = await call(BAD_JSON);
    assert.equal(bad.status, 400);
    assert.match(((await bad.json()) as { message: string }).message, /UTF-8/);
    assert.equal(((await (await call(GOOD_JSON)).json()) as { greeting: string }).greeting, "Hello, Adé!");
  });

  it("gRPC+json and a Connect JSON stream, each message gzip-compressed: INVALID_ARGUMENT", async () => {
    const grpc = await h2Request(
      server.url,
      {
        ":path": "/greeter.v1.Greeter/Greet",
        "content-type": "application/grpc+json",
        "grpc-encoding": "gzip",
        te: "trailers",
      },
      frame(gzipSync(BAD_JSON), undefined, 1),
    );
    assert.equal(String(grpc.trailers["grpc-status"] ?? grpc.headers["grpc-status"]), "3");
    const stream = await h2Request(
      server.url,
      {
        ":path": "/greeter.v1.Greeter/GreetStream",
        "content-type": "application/connect+json",
        "connect-content-encoding": "gzip",
      },
      frame(
        gzipSync(Buffer.concat([Buffer.from('{"count":1,"name":"A'), Buffer.from([0xff]), Buffer.from('"}')])),
        undefined,
        1,
      ),
    );
    const text = stream.body.toString("latin1");
    assert.doesNotMatch(text, /Hello/);
  });
});
