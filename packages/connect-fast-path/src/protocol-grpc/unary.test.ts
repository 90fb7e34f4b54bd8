import assert from "node:assert/strict";
import http2 from "node:http2";
import { after, before, describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, cors, createClient, type HandlerContext } from "@connectrpc/connect";
import { createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { Greeter, type GreetingRequest, GreetingResponseSchema } from "@greeter/proto/greeter/v1/greeter_pb.js";
import { type BareServer, type Http2Api, startBareHttp2Server } from "../../test/bare-test-server.js";
import { testLimits } from "../../test/call-limits.js";
import { type CallEngine, createCallEngine, type ProtocolHandler } from "../call/engine.js";
import { createGrpcWebHandler } from "../protocol-grpc-web/handler.js";
import { createGrpcHandler } from "./handler.js";

/** gRPC and gRPC-Web, the two protocols that share this unary code. */
function createGrpcFamily(engine: CallEngine): ProtocolHandler {
  const grpc = createGrpcHandler(engine);
  const web = createGrpcWebHandler(engine);
  return { handle: (req, res) => grpc.handle(req, res) || web.handle(req, res) };
}

// The fast path alone on a bare node:http2 server (bare-test-server.ts):
// every passing call here went through it.
let server: BareServer;
let lastAbortReason: unknown;
const shutdown = new AbortController();

async function greet(req: GreetingRequest, ctx: HandlerContext) {
  ctx.responseHeader.set("x-seen-header", ctx.requestHeader.get("x-custom") ?? "");
  ctx.responseTrailer.set("x-trailer", "t");
  if (req.name === "slow") {
    await new Promise((resolve) => {
      ctx.signal.addEventListener("abort", resolve, { once: true });
    });
    lastAbortReason = ctx.signal.reason;
    return {};
  }
  if (req.name === "fail") {
    throw new ConnectError("nope", Code.FailedPrecondition, { "x-error-meta": "m" });
  }
  if (req.name === "big") return { greeting: "x".repeat(2000) };
  if (req.name === "bug") throw new Error("secret database password in a stack trace");
  return create(GreetingResponseSchema, { greeting: `Hello, ${req.name}!` });
}

async function startServer(api: Http2Api): Promise<void> {
  const greetMethod = Greeter.method.greet;
  const fastPath = createGrpcFamily(
    createCallEngine(
      { unary: [{ method: greetMethod, impl: greet as never }], serverStreaming: [] },
      testLimits({
        shutdownSignal: shutdown.signal,
        cors: { allowedOrigins: ["http://allowed.example"], exposedHeaders: cors.exposedHeaders },
      }),
    ),
  );
  server = await startBareHttp2Server(api, fastPath.handle);
}

const client = () => createClient(Greeter, createGrpcTransport({ baseUrl: server.url }));

/** One raw Greet request, with no client library to add or check anything; resolves when it ends. */
function rawGreet(
  headers: http2.OutgoingHttpHeaders,
  body: Buffer,
): Promise<{ headers: http2.IncomingHttpHeaders; trailers: http2.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(server.url);
    const stream = session.request({ ":method": "POST", ":path": "/greeter.v1.Greeter/Greet", ...headers });
    let responseHeaders: http2.IncomingHttpHeaders = {};
    let trailers: http2.IncomingHttpHeaders = {};
    stream.on("response", (h, flags) => {
      responseHeaders = h;
      // Trailers-Only: the head ends the stream and carries the status.
      if (flags & http2.constants.NGHTTP2_FLAG_END_STREAM) trailers = h;
    });
    stream.on("trailers", (t) => {
      trailers = t;
    });
    stream.on("error", reject);
    stream.on("close", () => {
      session.close();
      resolve({ headers: responseHeaders, trailers });
    });
    stream.resume();
    stream.end(body);
  });
}

/** A gRPC frame holding GreetingRequest { name }. */
const greetFrame = (name: string): Buffer =>
  Buffer.from([0, 0, 0, 0, name.length + 2, 0x0a, name.length, ...Buffer.from(name)]);

// The same tests through Node's compatibility API (as HTTP/1.1 and a
// fast path that declines serve) and on the raw HTTP/2 stream (as the
// server takes HTTP/2 calls, see raw-http2-exchange.ts).
for (const api of ["compatibility API", "raw stream"] as const)
  describe(`the unary gRPC fast path, ${api}`, () => {
    before(() => startServer(api));
    after(() => server.stop());

    it("answers with the implementation's message, headers and trailers", async () => {
      let header: Headers | undefined;
      let trailer: Headers | undefined;
      const res = await client().greet(
        { name: "Ada" },
        { headers: { "x-custom": "c" }, onHeader: (h) => (header = h), onTrailer: (t) => (trailer = t) },
      );
      assert.equal(res.greeting, "Hello, Ada!");
      assert.equal(header?.get("x-seen-header"), "c");
      assert.equal(trailer?.get("x-trailer"), "t");
    });

    it("passes a ConnectError's code, message and metadata to the client", async () => {
      await assert.rejects(client().greet({ name: "fail" }), (e: unknown) => {
        const err = ConnectError.from(e);
        assert.equal(err.code, Code.FailedPrecondition);
        assert.equal(err.rawMessage, "nope");
        assert.equal(err.metadata.get("x-error-meta"), "m");
        return true;
      });
    });

    it("answers INTERNAL without the message for anything but a ConnectError", async () => {
      await assert.rejects(client().greet({ name: "bug" }), (e: unknown) => {
        const err = ConnectError.from(e);
        assert.equal(err.code, Code.Internal);
        assert.equal(err.rawMessage, "internal error");
        return true;
      });
    });

    it("ends a call at its grpc-timeout with DEADLINE_EXCEEDED and aborts the handler", async () => {
      // A raw request, so that no client-side deadline races the server's.
      lastAbortReason = undefined;
      const started = Date.now();
      const { trailers } = await rawGreet(
        { "content-type": "application/grpc", "grpc-timeout": "200m" },
        greetFrame("slow"),
      );
      assert.equal(trailers["grpc-status"], String(Code.DeadlineExceeded));
      assert.ok(Date.now() - started < 2_000);
      assert.equal(ConnectError.from(lastAbortReason).code, Code.DeadlineExceeded);
    });

    it("aborts the handler when the client cancels", async () => {
      lastAbortReason = undefined;
      const abort = new AbortController();
      const call = client().greet({ name: "slow" }, { signal: abort.signal });
      setTimeout(() => abort.abort(), 100);
      await assert.rejects(call);
      for (let i = 0; i < 50 && lastAbortReason === undefined; i++) await new Promise((r) => setTimeout(r, 10));
      assert.equal(ConnectError.from(lastAbortReason).code, Code.Canceled);
    });

    it("enforces the message size limits both ways", async () => {
      await assert.rejects(
        client().greet({ name: "x".repeat(2000) }),
        (e: unknown) => ConnectError.from(e).code === Code.ResourceExhausted,
      );
      await assert.rejects(
        client().greet({ name: "big" }),
        (e: unknown) => ConnectError.from(e).code === Code.ResourceExhausted,
      );
    });

    it("answers binary gRPC-Web too, status in the trailer frame", async () => {
      const web = createClient(Greeter, createGrpcWebTransport({ baseUrl: server.url, httpVersion: "2" }));
      assert.equal((await web.greet({ name: "Grace" })).greeting, "Hello, Grace!");
      await assert.rejects(web.greet({ name: "fail" }), (e: unknown) => {
        const err = ConnectError.from(e);
        assert.equal(err.code, Code.FailedPrecondition);
        assert.equal(err.metadata.get("x-error-meta"), "m");
        return true;
      });
    });

    it("adds CORS headers for allowed browser origins and leaves other origins to Fastify", async () => {
      const before = server.fallbacks;
      const request = async (origin: string) =>
        (await rawGreet({ "content-type": "application/grpc-web+proto", origin }, greetFrame("Ada"))).headers;
      const allowed = await request("http://allowed.example");
      assert.equal(allowed[":status"], 200);
      assert.equal(allowed["access-control-allow-origin"], "http://allowed.example");
      assert.match(String(allowed["access-control-expose-headers"]), /Grpc-Status/i);
      assert.equal(server.fallbacks, before);
      const refused = await request("http://evil.example");
      assert.equal(refused[":status"], 404);
      assert.equal(server.fallbacks, before + 1);
    });

    it("leaves compressed calls and other methods to connect-node", async () => {
      const before = server.fallbacks;
      const gzipClient = createClient(Greeter, createGrpcTransport({ baseUrl: server.url }));
      await assert.rejects(async () => {
        for await (const _ of gzipClient.greetStream({ name: "Ada", count: 1 })) {
          // not reached: the fallback answers 404
        }
      });
      assert.equal(server.fallbacks, before + 1);
      const { headers } = await rawGreet(
        { "content-type": "application/grpc", "grpc-encoding": "gzip" },
        Buffer.alloc(0),
      );
      const status = headers[":status"];
      assert.equal(status, 404);
      assert.equal(server.fallbacks, before + 2);
    });
  });
