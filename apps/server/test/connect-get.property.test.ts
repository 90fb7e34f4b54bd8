import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { create, toBinary, toJsonString } from "@bufbuild/protobuf";
import { GreetingRequestSchema } from "@greeter/proto/greeter/v1/greeter_pb.js";
import fc from "fast-check";
import { startTestServer, type TestServer } from "./testing.js";

// Connect GET query parameters (`message`, `base64`, `encoding`,
// `compression`, `connect`), generated in bulk: connect-node's answer
// (FAST_PATH=false) is the reference decoding, and the fast path must give
// the same status, content type and body for every query. Seed fixed, so a
// failure reproduces; the run count is in the test's name.
const RUNS = 300;
const GREET = "/greeter.v1.Greeter/Greet";

let fast: TestServer;
let slow: TestServer;
before(async () => {
  [fast, slow] = await Promise.all([startTestServer({ fastPath: true }), startTestServer({ fastPath: false })]);
});
after(() => Promise.all([fast.close(), slow.close()]));

const name = fc.oneof(fc.constantFrom("Ada", "", " ", "Grace Hopper"), fc.string({ maxLength: 30 }));
const proto = (n: string) => Buffer.from(toBinary(GreetingRequestSchema, create(GreetingRequestSchema, { name: n })));
const json = (n: string) => toJsonString(GreetingRequestSchema, create(GreetingRequestSchema, { name: n }));

/** A message as a client might put it in the query, well-formed or not. */
const message = fc.oneof(
  name.map(json),
  name.map((n) => proto(n).toString("base64url")),
  name.map((n) => proto(n).toString("base64")),
  name.map((n) => proto(n).toString("latin1")),
  fc.string({ maxLength: 40 }),
  fc.constantFrom("{", "{}", '{"name":1}', '{"nom":"Ada"}', "null", "AAAA", "%", "=="),
);
const optional = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined });

const query = fc.record({
  message: optional(message),
  base64: optional(fc.constantFrom("1", "0", "", "true")),
  encoding: optional(fc.constantFrom("json", "proto", "", "JSON", "xml")),
  compression: optional(fc.constantFrom("identity", "gzip", "br", "", "zstd")),
  connect: optional(fc.constantFrom("v1", "v2", "")),
});

async function answer(server: TestServer, search: string) {
  const res = await fetch(`${server.url}${GREET}?${search}`);
  return { status: res.status, contentType: res.headers.get("content-type"), body: await res.text() };
}

describe("Connect GET query parameters, generated (fast path against connect-node)", () => {
  it(`answers every query as connect-node does (${RUNS} runs)`, async () => {
    await fc.assert(
      fc.asyncProperty(query, async (q) => {
        const params = new URLSearchParams();
        for (const [key, value] of Object.entries(q)) if (value !== undefined) params.set(key, value);
        const search = params.toString();
        const [a, b] = await Promise.all([answer(fast, search), answer(slow, search)]);
        assert.deepEqual(a, b, `?${search}`);
        // No server fault. The INTERNAL (HTTP 500) answers left are bytes
        // that cannot be read at all, a binary message protobuf cannot parse
        // or a body that does not decompress, which connect-es and grpc-go
        // both answer with INTERNAL. An unknown compression is
        // UNIMPLEMENTED, which Connect sends as 501.
        const unreadable = /"message":"(parse binary: |decompression failed)/.test(a.body);
        if (!unreadable) assert.notEqual(a.status, 500, `?${search}: ${a.body}`);
      }),
      { numRuns: RUNS, seed: 20261203 },
    );
  });

  // What the property found, one case each, on both paths.
  for (const [search, status, body] of [
    // The fast path said "cannot decode message … from JSON: " twice.
    [
      "encoding=json",
      400,
      /^\{"code":"invalid_argument","message":"cannot decode message greeter\.v1\.GreetingRequest from JSON: Unexpected end of JSON input"\}$/,
    ],
    // connect-node answered 500 "internal error" to a base64=1 message that is not base64.
    [
      "encoding=json&base64=1&message=%7B%7D",
      400,
      /"code":"invalid_argument","message":"the message query parameter is not base64/,
    ],
    // The fast path refused unknown JSON fields, which connect-node ignores (then: the empty name's violation).
    [
      "encoding=json&message=%7B%22nom%22%3A%22Ada%22%7D",
      400,
      /"code":"invalid_argument","message":"name: must not be empty/,
    ],
  ] as const) {
    it(`?${search}: ${status}, the same on both paths`, async () => {
      for (const server of [fast, slow]) {
        const got = await answer(server, search);
        assert.equal(got.status, status, got.body);
        assert.match(got.body, body);
      }
    });
  }
});
