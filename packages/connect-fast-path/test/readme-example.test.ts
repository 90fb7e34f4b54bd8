import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import { create, toBinary } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { GetRequestSchema, KeyValueService } from "./adopter/gen/kv/v1/kv_pb.js";
import { type Listening, listenOnLoopback } from "./adopter/loopback.js";
import { rawGrpcCall } from "./adopter/raw-calls.js";
import { h1, h2 } from "./adopter/readme-example.js";

// The package README's "Use" example is test/adopter/readme-example.ts:
// the first test keeps the two the same, the others run the file, so that
// the example cannot stop working unnoticed. It is type-checked with the
// tests too (tsconfig.test.json).

const README = new URL("../README.md", import.meta.url);
const EXAMPLE = new URL("./adopter/readme-example.ts", import.meta.url);
const service = `/${KeyValueService.typeName}`;

/** The first TypeScript block of the README's "## Use" section. */
function useExample(readme: string): string {
  const section = readme.split(/^## /m).find((s) => s.startsWith("Use\n"));
  const block = section && /^```ts\n([\s\S]*?)^```$/m.exec(section)?.[1];
  assert.ok(block, 'the README has a "## Use" section with a ```ts block');
  return block;
}

describe("the README's Use example", () => {
  it("is test/adopter/readme-example.ts, word for word", () => {
    assert.equal(useExample(readFileSync(README, "utf8")), readFileSync(EXAMPLE, "utf8"));
  });

  describe("run", () => {
    let http2Server: Listening;
    let http1Server: Listening;
    before(async () => {
      // The example's servers, listening where a test may: loopback, port 0.
      http2Server = await listenOnLoopback(h2);
      http1Server = await listenOnLoopback(h1);
    });
    after(async () => {
      await Promise.all([http2Server.close(), http1Server.close()]);
    });

    it("serves every protocol on its two servers, a Connect GET and a server stream included", async () => {
      const grpc = createClient(KeyValueService, createGrpcTransport({ baseUrl: http2Server.url }));
      const web = createClient(
        KeyValueService,
        createGrpcWebTransport({ baseUrl: http1Server.url, httpVersion: "1.1" }),
      );
      assert.equal((await grpc.put({ key: "readme", value: "one" })).version, 1);
      const query = `connect=v1&encoding=json&message=${encodeURIComponent(JSON.stringify({ key: "readme" }))}`;
      const got = await fetch(`${http1Server.url}${service}/Get?${query}`);
      assert.deepEqual(await got.json(), { value: "one", version: 1 });
      const seen: string[] = [];
      await assert.rejects(
        async () => {
          for await (const res of web.watch({ key: "readme" }, { timeoutMs: 300 })) seen.push(res.value);
        },
        (e: unknown) => ConnectError.from(e).code === Code.DeadlineExceeded,
      );
      assert.deepEqual(seen, ["one"]);
    });

    it("answers through the fast path: grpc-message is encoded as the gRPC spec says, not as connect-node does", async () => {
      // connect-node percent-encodes grpc-message as encodeURIComponent
      // does, spaces and quotes too; the fast path leaves printable ASCII
      // as it is (the README's "Where it answers differently").
      const request = toBinary(GetRequestSchema, create(GetRequestSchema, { key: "absent" }));
      const answer = await rawGrpcCall(http2Server.url, `${service}/Get`, {}, request);
      assert.equal(answer.status, String(Code.NotFound));
      assert.equal(answer.trailers["grpc-message"], 'no value is stored under "absent"');
    });

    it("hands on what the fast path does not take: a client stream, answered by connect-node", async () => {
      const connect = createClient(
        KeyValueService,
        createConnectTransport({ baseUrl: http2Server.url, httpVersion: "2" }),
      );
      async function* entries() {
        yield { key: "readme a", value: "a" };
        yield { key: "readme b", value: "b" };
      }
      // Bounded: were nothing to answer it, the call would wait for ever.
      assert.equal((await connect.putMany(entries(), { timeoutMs: 10_000 })).count, 2);
      assert.equal((await connect.get({ key: "readme b" })).value, "b");
    });
  });
});
