import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { frame, h2Request } from "./raw-requests.js";
import { captureLogs, startTestServer, type TestServer } from "./testing.js";

// A call refused before the interceptors run is one they never count or
// log; the server reports it itself, so that an operator sees an attack.

const GREET = "/greeter.v1.Greeter/Greet";

for (const fastPath of [true, false])
  describe(`calls refused before the interceptors leave a trace (FAST_PATH=${fastPath})`, () => {
    let server: TestServer;
    const logs = captureLogs();
    before(async () => {
      server = await startTestServer(
        { logLevel: "warn", maxMessageBytes: 1024, fastPath },
        { logDestination: logs.destination },
      );
    });
    after(() => server.close());

    async function refusedCount(code: string): Promise<number> {
      const text = await (await fetch(`${server.url}/metrics`)).text();
      const line = text
        .split("\n")
        .find(
          (l) =>
            l.startsWith("greeter_rpc_refused_total{") &&
            l.includes(`procedure="${GREET}"`) &&
            l.includes(`code="${code}"`),
        );
      return line ? Number(line.slice(line.lastIndexOf(" ") + 1)) : 0;
    }

    /** The warn line that names `requestId`. */
    function lineFor(requestId: string): Record<string, unknown> | undefined {
      return logs.lines.find((l) => l.requestId === requestId);
    }

    it("gRPC, a broken envelope: INVALID_ARGUMENT with a request id in the trailers, counted and logged", async () => {
      const before = await refusedCount("invalid_argument");
      const res = await h2Request(
        server.url,
        { ":path": GREET, "content-type": "application/grpc", te: "trailers" },
        frame(Buffer.from([0x0a, 0x03]), 100),
      );
      const status = res.trailers["grpc-status"] ?? res.headers["grpc-status"];
      assert.equal(String(status), "3");
      const id = String(res.trailers["x-request-id"] ?? res.headers["x-request-id"] ?? "");
      assert.match(id, /^[0-9a-f-]{36}$/);
      assert.equal(await refusedCount("invalid_argument"), before + 1);
      const line = lineFor(id);
      assert.equal(line?.code, "invalid_argument");
      assert.equal(line?.procedure, GREET);
      assert.match(String(line?.peer), /^127\.0\.0\.1:\d+$/);
    });

    it("gRPC-Web over HTTP/1.1, a message over the limit: RESOURCE_EXHAUSTED with a request id", async () => {
      const before = await refusedCount("resource_exhausted");
      const res = await fetch(`${server.url}${GREET}`, {
        method: "POST",
        headers: { "content-type": "application/grpc-web+proto" },
        body: new Uint8Array(frame(Buffer.alloc(10), 5000)),
      });
      const body = Buffer.from(await res.arrayBuffer()).toString("latin1");
      assert.match(body, /grpc-status: 8/);
      const id = res.headers.get("x-request-id") ?? "";
      assert.ok(lineFor(id), `a warn line names ${id}`);
      assert.equal(await refusedCount("resource_exhausted"), before + 1);
    });

    it("Connect unary, JSON that is not a message: INVALID_ARGUMENT with a request id header", async () => {
      const before = await refusedCount("invalid_argument");
      const res = await fetch(`${server.url}${GREET}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: "{not json",
      });
      assert.equal(res.status, 400);
      const id = res.headers.get("x-request-id") ?? "";
      assert.equal(lineFor(id)?.code, "invalid_argument");
      assert.equal(await refusedCount("invalid_argument"), before + 1);
    });

    // The fast path refuses it before the interceptors, with the id in the
    // head; connect-node checks the timeout inside them, which log the call
    // and put the id in the end-of-stream metadata. A trace either way.
    it("a Connect server stream with a bad timeout: an id in the answer names a log line", async () => {
      const res = await h2Request(
        server.url,
        {
          ":path": "/greeter.v1.Greeter/GreetStream",
          "content-type": "application/connect+proto",
          "connect-timeout-ms": "soon",
        },
        frame(Buffer.from([0x0a, 0x01, 0x41, 0x10, 0x01])),
      );
      const text = res.body.toString("latin1");
      assert.match(text, /"code":"invalid_argument"/);
      const id = String(res.headers["x-request-id"] ?? /"x-request-id":\["([^"]+)"\]/.exec(text)?.[1] ?? "");
      assert.equal(lineFor(id)?.procedure, "/greeter.v1.Greeter/GreetStream");
    });
  });
