import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { runSchemathesis } from "./fuzz/schemathesis.js";
import { startTestServer, type TestServer } from "./testing.js";

// Requests generated in bulk from the server's own OpenAPI document, by
// Schemathesis, with every check on: no server error, statuses, content
// types and bodies as documented, valid data accepted, invalid data
// refused. `pnpm fuzz` runs the same with many more examples.
const EXAMPLES = 50;
const SEED = 20261203;

for (const fastPath of [true, false]) {
  describe(`Schemathesis against /openapi.json (FAST_PATH=${fastPath})`, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer({ fastPath });
    });
    after(() => server.close());

    it(`passes every check, ${EXAMPLES} examples per operation and phase, seed ${SEED}`, {
      timeout: 300_000,
    }, async () => {
      const result = await runSchemathesis(server.url, EXAMPLES, SEED);
      assert.equal(result.code, 0, result.output);
      assert.ok(result.generated >= 2 * EXAMPLES, `only ${result.generated} test cases:\n${result.output}`);
      assert.equal(result.passed, result.generated, result.output);
      // Still serving after all of it.
      const res = await fetch(`${server.url}/greeter.v1.Greeter/Greet`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ name: "Ada" }),
      });
      assert.deepEqual(await res.json(), { greeting: "Hello, Ada!", language: "en" });
    });

    // What Schemathesis found, one case each.
    it("a method the route does not take: 405 with Allow (connect-node sent none)", async () => {
      const res = await fetch(`${server.url}/greeter.v1.Greeter/Greet`, { method: "PUT", body: "{}" });
      assert.equal(res.status, 405);
      assert.match(res.headers.get("allow") ?? "", /POST/);
    });
    it("a Connect protocol version other than 1: INVALID_ARGUMENT (connect-node answered as if 1)", async () => {
      const post = await fetch(`${server.url}/greeter.v1.Greeter/Greet`, {
        method: "POST",
        headers: { "content-type": "application/json", "connect-protocol-version": "2" },
        body: JSON.stringify({ name: "Ada" }),
      });
      assert.equal(post.status, 400);
      assert.match((await post.json()).message, /connect-protocol-version must be 1/);
      const get = await fetch(`${server.url}/greeter.v1.Greeter/Greet?encoding=json&connect=v2&message=%7B%7D`);
      assert.equal(get.status, 400);
      assert.match((await get.json()).message, /connect query parameter must be v1/);
    });
    it("an unknown JSON field is ignored, as the document now allows", async () => {
      const res = await fetch(`${server.url}/greeter.v1.Greeter/Greet`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ name: "Ada", nickname: "Countess" }),
      });
      assert.equal(res.status, 200);
    });
  });
}
