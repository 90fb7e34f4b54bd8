import assert from "node:assert/strict";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { Code, ConnectError, cors, createClient, type HandlerContext } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { Greeter, type GreetingRequest } from "@greeter/proto/greeter/v1/greeter_pb.js";
import { Health } from "@greeter/proto/health/v1/health_pb.js";
import { testLimits } from "../../test/call-limits.js";
import { createCallEngine } from "../call/engine.js";
import { createConnectHandler } from "./handler.js";

// The fast path alone on a bare node:http server: whatever it does not take
// gets a 404 with a marker, so every passing call here went through it.
let server: http.Server;
let url: string;
let fallbacks = 0;
let lastAbortReason: unknown;
const shutdown = new AbortController();

async function greet(req: GreetingRequest, ctx: HandlerContext) {
  ctx.responseHeader.set("x-seen-header", ctx.requestHeader.get("x-custom") ?? "");
  ctx.responseTrailer.set("x-trailer", "t");
  if (req.name === "slow") {
    await new Promise((resolve) => ctx.signal.addEventListener("abort", resolve, { once: true }));
    lastAbortReason = ctx.signal.reason;
    return {};
  }
  if (req.name === "fail") throw new ConnectError("nope", Code.FailedPrecondition, { "x-error-meta": "m" });
  if (req.name === "bug") throw new Error("secret");
  return { greeting: `Hello, ${req.name}!` };
}

before(async () => {
  const fastPath = createConnectHandler(
    createCallEngine(
      {
        unary: [
          { method: Greeter.method.greet, impl: greet as never },
          // A method without NO_SIDE_EFFECTS: Connect allows no GET for it.
          { method: Health.method.check, impl: (() => ({})) as never },
        ],
        serverStreaming: [],
      },
      testLimits({
        shutdownSignal: shutdown.signal,
        cors: { allowedOrigins: ["http://allowed.example"], exposedHeaders: cors.exposedHeaders },
      }),
    ),
  );
  server = http.createServer((req, res) => {
    if (fastPath.handle(req, res)) return;
    fallbacks++;
    res.writeHead(404, { "x-fallback": "1" }).end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const post = (body: string, headers: Record<string, string> = {}) =>
  fetch(`${url}/greeter.v1.Greeter/Greet`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body,
  });

describe("the unary Connect fast path", () => {
  for (const useBinaryFormat of [false, true]) {
    it(`answers ${useBinaryFormat ? "binary" : "JSON"} calls with headers and trailers`, async () => {
      let header: Headers | undefined;
      let trailer: Headers | undefined;
      const client = createClient(
        Greeter,
        createConnectTransport({ baseUrl: url, httpVersion: "1.1", useBinaryFormat }),
      );
      const res = await client.greet(
        { name: "Ada" },
        { headers: { "x-custom": "c" }, onHeader: (h) => (header = h), onTrailer: (t) => (trailer = t) },
      );
      assert.equal(res.greeting, "Hello, Ada!");
      assert.equal(header?.get("x-seen-header"), "c");
      assert.equal(trailer?.get("x-trailer"), "t");
    });
  }

  it("answers errors in the Connect shape: HTTP status, JSON body, metadata", async () => {
    const res = await post('{"name":"fail"}');
    assert.equal(res.status, 400); // failed_precondition
    assert.equal(res.headers.get("x-error-meta"), "m");
    assert.deepEqual(await res.json(), { code: "failed_precondition", message: "nope" });
  });

  it("hides the message of anything but a ConnectError", async () => {
    const res = await post('{"name":"bug"}');
    assert.equal(res.status, 500);
    assert.deepEqual(await res.json(), { code: "internal", message: "internal error" });
  });

  it("rejects JSON that does not fit the message with invalid_argument", async () => {
    for (const body of ['{"name":', '{"nom":"Ada"}', "[]"]) {
      const res = await post(body);
      assert.equal(res.status, 400, body);
      assert.equal(((await res.json()) as { code: string }).code, "invalid_argument");
    }
  });

  it("ends a call at connect-timeout-ms and aborts the handler", async () => {
    lastAbortReason = undefined;
    const res = await post('{"name":"slow"}', { "connect-timeout-ms": "150" });
    assert.equal(res.status, 504);
    assert.equal(((await res.json()) as { code: string }).code, "deadline_exceeded");
    assert.equal(ConnectError.from(lastAbortReason).code, Code.DeadlineExceeded);
  });

  it("enforces the read limit", async () => {
    const res = await post(JSON.stringify({ name: "x".repeat(2000) }));
    assert.equal(res.status, 429);
    assert.equal(((await res.json()) as { code: string }).code, "resource_exhausted");
  });

  it("adds CORS headers for an allowed browser origin", async () => {
    const res = await post('{"name":"Ada"}', { origin: "http://allowed.example" });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("access-control-allow-origin"), "http://allowed.example");
    assert.equal(res.headers.get("x-fallback"), null);
  });

  it("leaves other browsers, GET, compressed bodies and other versions to connect-node", async () => {
    const before = fallbacks;
    const cases: [string, RequestInit][] = [
      ["browser", { method: "POST", headers: { "content-type": "application/json", origin: "http://x" }, body: "{}" }],
      [
        "gzip",
        { method: "POST", headers: { "content-type": "application/json", "content-encoding": "gzip" }, body: "{}" },
      ],
      [
        "version",
        {
          method: "POST",
          headers: { "content-type": "application/json", "connect-protocol-version": "2" },
          body: "{}",
        },
      ],
    ];
    for (const [name, init] of cases) {
      const res = await fetch(`${url}/greeter.v1.Greeter/Greet?encoding=json&message=%7B%7D`, init);
      assert.equal(res.headers.get("x-fallback"), "1", name);
    }
    // GET: a compressed message, an unknown encoding, a method with side effects.
    const gets = [
      "/greeter.v1.Greeter/Greet?encoding=json&message=%7B%7D&compression=gzip",
      "/greeter.v1.Greeter/Greet?encoding=yaml&message=%7B%7D",
      "/grpc.health.v1.Health/Check?encoding=json&message=%7B%7D",
    ];
    for (const path of gets) assert.equal((await fetch(`${url}${path}`)).headers.get("x-fallback"), "1", path);
    assert.equal(fallbacks, before + cases.length + gets.length);
  });

  it("answers GET calls, JSON or base64 binary in the query, as connect-node does", async () => {
    let header: Headers | undefined;
    for (const useBinaryFormat of [false, true]) {
      const client = createClient(
        Greeter,
        createConnectTransport({ baseUrl: url, httpVersion: "1.1", useBinaryFormat, useHttpGet: true }),
      );
      const res = await client.greet({ name: "Ada" }, { onHeader: (h) => (header = h) });
      assert.equal(res.greeting, "Hello, Ada!");
      assert.equal(header?.get("x-fallback"), null);
    }
    const failed = await fetch(
      `${url}/greeter.v1.Greeter/Greet?encoding=json&message=${encodeURIComponent('{"name":"fail"}')}`,
    );
    assert.equal(failed.status, 400);
    assert.deepEqual(await failed.json(), { code: "failed_precondition", message: "nope" });
    const broken = await fetch(`${url}/greeter.v1.Greeter/Greet?encoding=json&message=%7B%22name`);
    assert.equal(((await broken.json()) as { code: string }).code, "invalid_argument");
    const big = await fetch(`${url}/greeter.v1.Greeter/Greet?encoding=json&message=${"x".repeat(2000)}`);
    assert.equal(((await big.json()) as { code: string }).code, "resource_exhausted");
  });
});
