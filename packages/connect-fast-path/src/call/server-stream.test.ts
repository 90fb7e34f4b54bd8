import assert from "node:assert/strict";
import http from "node:http";
import http2 from "node:http2";
import type { Readable } from "node:stream";
import { after, before, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { gunzipSync } from "node:zlib";
import { create, fromBinary, fromJsonString, toBinary, toJsonString } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient, type HandlerContext, type Interceptor } from "@connectrpc/connect";
import { codeFromString } from "@connectrpc/connect/protocol-connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import {
  Greeter,
  GreetingResponseSchema,
  type GreetStreamRequest,
  GreetStreamRequestSchema,
} from "@greeter/proto/greeter/v1/greeter_pb.js";
import { type BareServer, startBareHttp1Server, startBareHttp2Server } from "../../test/bare-test-server.js";
import { testLimits } from "../../test/call-limits.js";
import { createProtocolHandler } from "../protocols.js";
import { createCallEngine } from "./engine.js";

// The streaming fast path alone on a bare server (bare-test-server.ts):
// every passing call here went through it.
let server: BareServer;

/** The protocols and HTTP versions the path serves, each tested alike. */
const WIRES = [
  "gRPC, raw HTTP/2",
  "gRPC-Web, HTTP/1.1",
  "gRPC-Web, raw HTTP/2",
  "gRPC-Web, HTTP/2 compatibility API",
  "Connect, HTTP/1.1",
  "Connect JSON, raw HTTP/2",
] as const;
type Wire = (typeof WIRES)[number];
let wire: Wire = "gRPC, raw HTTP/2";
const isWeb = (): boolean => wire.startsWith("gRPC-Web");
const isConnect = (): boolean => wire.startsWith("Connect");
const isJson = (): boolean => wire.startsWith("Connect JSON");
const isHttp1 = (): boolean => wire.endsWith("HTTP/1.1");

/** The protocol's own header names (and timeout format). */
const headerNames = () =>
  isConnect()
    ? {
        timeout: (ms: number | string) => ({ "connect-timeout-ms": String(ms) }),
        acceptEncoding: "connect-accept-encoding",
        encoding: "connect-content-encoding",
      }
    : {
        timeout: (ms: number | string) => ({ "grpc-timeout": typeof ms === "number" ? `${ms}m` : ms }),
        acceptEncoding: "grpc-accept-encoding",
        encoding: "grpc-encoding",
      };
let shutdown: AbortController;
/** Why the last implementation that watched its signal was stopped. */
let lastAbortReason: unknown;
/** What the test interceptor saw of each stream: messages passed on and how it ended. */
let tallies: { messages: number; end: string }[] = [];
/** Whether the last "flood" implementation was stopped (its finally ran). */
let floodStopped = false;
/** How many times an implementation began to run. */
let streamsStarted = 0;
const MAX_MESSAGE_BYTES = 1024;

async function* greetStream(req: GreetStreamRequest, ctx: HandlerContext) {
  streamsStarted++;
  ctx.responseHeader.set("x-seen-header", ctx.requestHeader.get("x-custom") ?? "");
  ctx.responseTrailer.set("x-trailer", "t");
  const count = Math.min(req.count, 10_000);
  if (req.name === "slow") {
    try {
      for (let i = 0; i < 100; i++) {
        yield { greeting: `slow ${i}` };
        await sleep(50, undefined, { signal: ctx.signal });
      }
    } catch {
      lastAbortReason = ctx.signal.reason;
      ctx.signal.throwIfAborted();
    }
    return;
  }
  if (req.name === "deaf") {
    // Never looks at its signal: the stream must end on time anyway.
    for (let i = 0; i < 40; i++) {
      yield { greeting: `deaf ${i}` };
      await sleep(50);
    }
    return;
  }
  if (req.name === "flood") {
    // Faster than any client reads, and deaf to its signal.
    floodStopped = false;
    try {
      for (let i = 0; i < 100_000; i++) yield { greeting: `${"f".repeat(500)} ${i}` };
    } finally {
      floodStopped = true;
    }
    return;
  }
  for (let i = 0; i < count; i++) {
    if (req.name === "fail" && i === 2) {
      throw new ConnectError("no third greeting", Code.FailedPrecondition, { "x-error-meta": "m" });
    }
    if (req.name === "bug" && i === 1) throw new Error("secret database password in a stack trace");
    if (req.name === "big" && i === 1) yield { greeting: "x".repeat(2 * MAX_MESSAGE_BYTES) };
    // Plain objects and messages alike, as connect-node takes them.
    yield i % 2 === 0
      ? create(GreetingResponseSchema, { greeting: `${req.name} ${i}`, language: "en" })
      : { greeting: `${req.name} ${i}`, language: "en" };
  }
}

/** Spreads the request and the response, as the logging interceptor does, and counts what passes. */
const tallying: Interceptor = (next) => async (req) => {
  if (!req.stream) return next(req);
  const res = await next({ ...req, message: req.message });
  if (!res.stream) return res;
  res.header.set("x-interceptor", "seen");
  const tally = { messages: 0, end: "" };
  tallies.push(tally);
  async function* counted() {
    try {
      for await (const message of (res as typeof res & { stream: true }).message) {
        tally.messages++;
        yield message;
      }
      tally.end = "ok";
    } catch (e) {
      tally.end = Code[ConnectError.from(e).code] ?? "?";
      throw e;
    }
  }
  return { ...res, message: counted() };
};

async function startServer(interceptors: Interceptor[]): Promise<void> {
  shutdown = new AbortController();
  const fastPath = createProtocolHandler(
    createCallEngine(
      { unary: [], serverStreaming: [{ method: Greeter.method.greetStream, impl: greetStream as never }] },
      testLimits({
        readMaxBytes: MAX_MESSAGE_BYTES,
        writeMaxBytes: MAX_MESSAGE_BYTES,
        shutdownSignal: shutdown.signal,
        interceptors,
        compressMinBytes: 100,
      }),
    ),
  );
  if (isHttp1()) server = await startBareHttp1Server(fastPath.handle);
  else if (wire === "gRPC-Web, HTTP/2 compatibility API") {
    server = await startBareHttp2Server("compatibility API", fastPath.handle);
  } else server = await startBareHttp2Server("raw stream", fastPath.handle);
}

const client = () => {
  const baseUrl = server.url;
  const httpVersion = isHttp1() ? "1.1" : "2";
  const transport = isConnect()
    ? createConnectTransport({ baseUrl, httpVersion, useBinaryFormat: !isJson() })
    : isWeb()
      ? createGrpcWebTransport({ baseUrl, httpVersion })
      : createGrpcTransport({ baseUrl });
  return createClient(Greeter, transport);
};

/** Reads a whole stream: the greetings, then the error it ended with, if any. */
async function collect(
  name: string,
  count: number,
  options: Parameters<ReturnType<typeof client>["greetStream"]>[1] = {},
) {
  const greetings: string[] = [];
  try {
    for await (const m of client().greetStream({ name, count }, options)) greetings.push(m.greeting);
    return { greetings, error: undefined };
  } catch (e) {
    return { greetings, error: ConnectError.from(e) };
  }
}

interface RawAnswer {
  status: number;
  headers: http2.IncomingHttpHeaders;
  /** HTTP/2 trailers (gRPC), or gRPC-Web's trailer frame. */
  trailers: Record<string, string | string[] | undefined>;
  /** The message frames. */
  body: Buffer;
  /** When the status came, in ms after the request was sent. */
  endedAfterMs: number;
}

const GREET_STREAM = "/greeter.v1.Greeter/GreetStream";

/** Opens one GreetStream request with no client library to add or check anything; `cancel` abandons it. */
function rawRequest(headers: Record<string, string>, body: Buffer) {
  const contentType = isConnect()
    ? `application/connect+${isJson() ? "json" : "proto"}`
    : isWeb()
      ? "application/grpc-web+proto"
      : "application/grpc";
  const all = { "content-type": contentType, ...headers };
  if (isHttp1()) {
    const req = http.request(`${server.url}${GREET_STREAM}`, { method: "POST", headers: all });
    req.end(body);
    return {
      response: new Promise<{ status: number; headers: http2.IncomingHttpHeaders; body: Readable }>(
        (resolve, reject) => {
          req.once("response", (res) => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: res }));
          req.once("error", reject);
        },
      ),
      cancel: () => req.destroy(),
    };
  }
  const session = http2.connect(server.url);
  const stream = session.request({ ":method": "POST", ":path": GREET_STREAM, ...all });
  stream.end(body);
  stream.on("close", () => session.close());
  return {
    response: new Promise<{
      status: number;
      headers: http2.IncomingHttpHeaders;
      body: Readable;
      trailersOnly: boolean;
    }>((resolve, reject) => {
      stream.once("response", (h, flags) =>
        resolve({
          status: Number(h[":status"]),
          headers: h,
          body: stream,
          trailersOnly: (flags & http2.constants.NGHTTP2_FLAG_END_STREAM) !== 0,
        }),
      );
      stream.once("error", reject);
    }),
    stream,
    cancel: () => {
      stream.close(http2.constants.NGHTTP2_CANCEL);
      session.destroy();
    },
  };
}

/** One whole GreetStream call, raw: head, message frames, status. */
async function rawCall(headers: Record<string, string>, body: Buffer): Promise<RawAnswer> {
  const started = Date.now();
  const call = rawRequest(headers, body);
  const answer: RawAnswer = { status: 0, headers: {}, trailers: {}, body: Buffer.alloc(0), endedAfterMs: -1 };
  call.stream?.once("trailers", (t) => {
    answer.trailers = t;
    answer.endedAfterMs = Date.now() - started;
  });
  const response = await call.response;
  answer.status = response.status;
  answer.headers = response.headers;
  if ("trailersOnly" in response && response.trailersOnly) {
    answer.trailers = response.headers;
    answer.endedAfterMs = Date.now() - started;
  }
  const chunks: Buffer[] = [];
  for await (const chunk of response.body) chunks.push(chunk as Buffer);
  const received = Buffer.concat(chunks);
  if (!isWeb() && !isConnect()) {
    answer.body = received;
    return answer;
  }
  const frames = envelopes(received);
  const last = frames.at(-1);
  if (isConnect() && last && last.flags & 0x02) {
    // Connect: the last frame (flag 0x02) holds the error and the trailers as JSON; the
    // status is kept here as gRPC's code number, as the other protocols give it.
    const end = JSON.parse(last.payload.toString("utf8")) as {
      error?: { code: string };
      metadata?: Record<string, string[]>;
    };
    for (const [key, values] of Object.entries(end.metadata ?? {})) answer.trailers[key] = values.join(", ");
    answer.trailers["grpc-status"] = String(end.error ? codeFromString(end.error.code) : 0);
    answer.endedAfterMs = Date.now() - started;
    answer.body = received.subarray(0, received.length - 5 - last.payload.length);
  } else if (last && last.flags & 0x80) {
    // gRPC-Web: the last frame (flag 0x80) holds the status, as header lines.
    for (const line of last.payload.toString("latin1").split("\r\n")) {
      const colon = line.indexOf(":");
      if (colon > 0) answer.trailers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    answer.endedAfterMs = Date.now() - started;
    answer.body = received.subarray(0, received.length - 5 - last.payload.length);
  } else {
    answer.body = received;
  }
  return answer;
}

/** A GreetStreamRequest in one envelope, binary or JSON as the wire is. */
const requestFrame = (name: string, count: number): Buffer => {
  const message = create(GreetStreamRequestSchema, { name, count });
  const bytes = isJson()
    ? Buffer.from(toJsonString(GreetStreamRequestSchema, message))
    : toBinary(GreetStreamRequestSchema, message);
  const frame = Buffer.alloc(5 + bytes.length);
  frame.writeUInt32BE(bytes.length, 1);
  frame.set(bytes, 5);
  return frame;
};

/** A greeting as the wire encodes it. */
const decodeGreeting = (bytes: Uint8Array) =>
  isJson()
    ? fromJsonString(GreetingResponseSchema, Buffer.from(bytes).toString("utf8"))
    : fromBinary(GreetingResponseSchema, bytes);

/** The envelopes of a gRPC body: flags and payload of each. */
function envelopes(body: Buffer): { flags: number; payload: Buffer }[] {
  const out: { flags: number; payload: Buffer }[] = [];
  for (let at = 0; at < body.length; ) {
    const length = body.readUInt32BE(at + 1);
    out.push({ flags: body[at] ?? -1, payload: body.subarray(at + 5, at + 5 + length) });
    at += 5 + length;
  }
  return out;
}

for (const w of WIRES)
  for (const withInterceptor of [false, true])
    describe(`the server-streaming fast path, ${w}, ${withInterceptor ? "with" : "without"} an interceptor`, () => {
      before(() => {
        wire = w;
        return startServer(withInterceptor ? [tallying] : []);
      });
      after(() => server.stop());

      it("sends every message in order, with the implementation's headers and trailers", async () => {
        tallies = [];
        let header: Headers | undefined;
        let trailer: Headers | undefined;
        const greetings: string[] = [];
        for await (const m of client().greetStream(
          { name: "Ada", count: 5 },
          { headers: { "x-custom": "c" }, onHeader: (h) => (header = h), onTrailer: (t) => (trailer = t) },
        )) {
          greetings.push(m.greeting);
        }
        assert.deepEqual(greetings, ["Ada 0", "Ada 1", "Ada 2", "Ada 3", "Ada 4"]);
        assert.equal(header?.get("x-seen-header"), "c");
        assert.equal(trailer?.get("x-trailer"), "t");
        if (withInterceptor) {
          assert.equal(header?.get("x-interceptor"), "seen");
          assert.deepEqual(tallies, [{ messages: 5, end: "ok" }]);
        }
      });

      it("keeps every message intact when the client's window fills and the server must wait", async () => {
        // About 150 KB, more than HTTP/2's default 64 KB window: the server waits for 'drain'.
        const count = 5_000;
        const { greetings, error } = await collect("a name long enough to make the messages bigger", count);
        assert.equal(error, undefined);
        assert.equal(greetings.length, count);
        for (let i = 0; i < count; i += 499) {
          assert.equal(greetings[i], `a name long enough to make the messages bigger ${i}`);
        }
      });

      it("ends with a ConnectError's code, message and metadata after the messages sent before it", async () => {
        tallies = [];
        const { greetings, error } = await collect("fail", 5);
        assert.deepEqual(greetings, ["fail 0", "fail 1"]);
        assert.equal(error?.code, Code.FailedPrecondition);
        assert.equal(error?.rawMessage, "no third greeting");
        assert.equal(error?.metadata.get("x-error-meta"), "m");
        assert.equal(error?.metadata.get("x-trailer"), "t");
        if (withInterceptor) assert.deepEqual(tallies, [{ messages: 2, end: "FailedPrecondition" }]);
      });

      it("ends with INTERNAL, without the message, for anything but a ConnectError", async () => {
        const { greetings, error } = await collect("bug", 5);
        assert.deepEqual(greetings, ["bug 0"]);
        assert.equal(error?.code, Code.Internal);
        assert.equal(error?.rawMessage, "internal error");
      });

      it("ends with RESOURCE_EXHAUSTED at a message over the size limit, and the interceptors learn it", async () => {
        tallies = [];
        const { greetings, error } = await collect("big", 5);
        assert.deepEqual(greetings, ["big 0"]);
        assert.equal(error?.code, Code.ResourceExhausted);
        if (withInterceptor) assert.deepEqual(tallies, [{ messages: 2, end: "ResourceExhausted" }]);
      });

      it("ends a stream at its grpc-timeout with DEADLINE_EXCEEDED and aborts the implementation", async () => {
        lastAbortReason = undefined;
        const answer = await rawCall(headerNames().timeout(300), requestFrame("slow", 1));
        assert.equal(answer.trailers["grpc-status"], String(Code.DeadlineExceeded));
        assert.ok(envelopes(answer.body).length >= 2, "messages before the deadline were sent");
        assert.ok(answer.endedAfterMs < 2_000, `ended after ${answer.endedAfterMs} ms`);
        for (let i = 0; i < 50 && lastAbortReason === undefined; i++) await sleep(10);
        assert.equal(ConnectError.from(lastAbortReason).code, Code.DeadlineExceeded);
      });

      it("ends a stream on time even when the implementation ignores its signal", async () => {
        tallies = [];
        const answer = await rawCall(headerNames().timeout(300), requestFrame("deaf", 1));
        assert.equal(answer.trailers["grpc-status"], String(Code.DeadlineExceeded));
        // The implementation would go on for 2 s.
        assert.ok(answer.endedAfterMs < 1_500, `ended after ${answer.endedAfterMs} ms`);
        if (withInterceptor) {
          // Stopped at its next message, with the reason the client got.
          for (let i = 0; i < 50 && tallies[0]?.end === ""; i++) await sleep(10);
          assert.equal(tallies[0]?.end, "DeadlineExceeded");
        }
      });

      it("aborts the implementation when the client cancels", async () => {
        lastAbortReason = undefined;
        const abort = new AbortController();
        setTimeout(() => abort.abort(), 150);
        const { error } = await collect("slow", 1, { signal: abort.signal });
        assert.equal(error?.code, Code.Canceled);
        for (let i = 0; i < 50 && lastAbortReason === undefined; i++) await sleep(10);
        assert.equal(ConnectError.from(lastAbortReason).code, Code.Canceled);
      });

      it("stops an implementation stuck behind a full window when the client goes away", async () => {
        const call = rawRequest({}, requestFrame("flood", 1));
        // Never read: the window fills and the server waits for it to drain.
        (await call.response).body.pause();
        await sleep(200);
        assert.equal(floodStopped, false);
        call.cancel();
        for (let i = 0; i < 100 && !floodStopped; i++) await sleep(20);
        assert.equal(floodStopped, true);
      });

      it("ends running streams with UNAVAILABLE when the server shuts down, and runs none begun after it", async () => {
        const call = rawCall({}, requestFrame("slow", 1));
        await sleep(150);
        shutdown.abort(new ConnectError("the server is shutting down", Code.Unavailable));
        const answer = await call;
        assert.equal(answer.trailers["grpc-status"], String(Code.Unavailable));
        // One begun after the shutdown: its reason, and the implementation never runs.
        const started = streamsStarted;
        const late = await rawCall({}, requestFrame("Ada", 1));
        assert.equal(late.trailers["grpc-status"], String(Code.Unavailable));
        assert.equal(streamsStarted, started, "a stream begun after the shutdown ran its implementation");
        // The other tests need a server that is not shutting down.
        await server.stop();
        await startServer(withInterceptor ? [tallying] : []);
      });

      it("compresses the messages that reach the minimum size, for a client that accepts gzip", async () => {
        const answer = await rawCall({ [headerNames().acceptEncoding]: "gzip" }, requestFrame("big", 1));
        assert.equal(answer.headers[headerNames().encoding], "gzip");
        const name = "n".repeat(120);
        const sized = await rawCall({ [headerNames().acceptEncoding]: "identity, gzip" }, requestFrame(name, 2));
        assert.equal(sized.trailers["grpc-status"], "0");
        const frames = envelopes(sized.body);
        assert.equal(frames.length, 2);
        for (const [i, frame] of frames.entries()) {
          assert.equal(frame.flags, 1, "over compressMinBytes: compressed");
          assert.equal(decodeGreeting(gunzipSync(frame.payload)).greeting, `${name} ${i}`);
        }
        const small = envelopes(
          (await rawCall({ [headerNames().acceptEncoding]: "gzip" }, requestFrame("Ada", 1))).body,
        );
        assert.equal(small[0]?.flags, 0, "under compressMinBytes: sent as is");
      });

      it("rejects a broken or oversized request with the status connect-node gives", async () => {
        const broken = await rawCall({}, Buffer.from([0, 0, 0, 0, 9, 1]));
        assert.equal(broken.trailers["grpc-status"], String(Code.InvalidArgument));
        const oversized = await rawCall({}, requestFrame("x".repeat(2 * MAX_MESSAGE_BYTES), 1));
        assert.equal(oversized.trailers["grpc-status"], String(Code.ResourceExhausted));
        const badTimeout = await rawCall(headerNames().timeout("soon"), requestFrame("Ada", 1));
        assert.equal(badTimeout.trailers["grpc-status"], String(Code.InvalidArgument));
      });

      it("leaves gRPC-Web text, compressed requests and other methods to connect-node", async () => {
        const before = server.fallbacks;
        const text = await rawCall({ "content-type": "application/grpc-web-text" }, requestFrame("Ada", 1));
        assert.equal(text.status, 404);
        const gzipped = await rawCall({ [headerNames().encoding]: "gzip" }, requestFrame("Ada", 1));
        assert.equal(gzipped.status, 404);
        await assert.rejects(client().greet({ name: "Ada" }));
        assert.equal(server.fallbacks, before + 3);
      });
    });
