import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Code, ConnectError, createClient, type Interceptor } from "@connectrpc/connect";
import type { RpcSemconv } from "@greeter/interceptors";
import { Greeter } from "@greeter/proto/greeter/v1/greeter_pb.js";
import { startTestServer, type TestServer } from "@greeter/server/testing";
import { SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import { InMemorySpanExporter, type ReadableSpan, SimpleSpanProcessor, TracerProvider } from "@opentelemetry/sdk-trace";
import { createTransport, PROTOCOLS, type Protocol } from "./transport.js";

// The CLI's own transport (its interceptors included) calls a real server;
// both ends export to one in-memory exporter.
describe("tracing from the CLI's transport to the server", () => {
  const exporter = new InMemorySpanExporter();
  let server: TestServer;
  before(async () => {
    trace.setGlobalTracerProvider(new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] }));
    server = await startTestServer({}, { spanExporter: exporter });
  });
  after(async () => {
    await server.close();
    trace.disable();
  });

  /** The client and server spans of the one call made by `call`. */
  async function spansOf(call: () => Promise<unknown>): Promise<{ client: ReadableSpan; server: ReadableSpan }> {
    exporter.reset();
    await call().catch(() => undefined);
    const spans = exporter.getFinishedSpans();
    const client = spans.find((s) => s.kind === SpanKind.CLIENT);
    const serverSpan = spans.find((s) => s.kind === SpanKind.SERVER);
    assert.ok(client && serverSpan, `a client and a server span, got ${spans.map((s) => s.name)}`);
    return { client, server: serverSpan };
  }

  for (const protocol of PROTOCOLS) {
    it(`one trace, server span child of the client span (${protocol})`, async () => {
      const greeter = createClient(Greeter, createTransport({ baseUrl: server.url, protocol, needsHttp2: false }));
      const { client, server: span } = await spansOf(() => greeter.greet({ name: "Ada" }));
      assert.equal(span.spanContext().traceId, client.spanContext().traceId);
      assert.equal(span.parentSpanContext?.spanId, client.spanContext().spanId);
      assert.equal(span.name, "greeter.v1.Greeter/Greet");
      assert.deepEqual(
        {
          system: span.attributes["rpc.system"],
          service: span.attributes["rpc.service"],
          method: span.attributes["rpc.method"],
          code: span.attributes["rpc.grpc.status_code"],
        },
        {
          system: protocol === "connect" ? "connect_rpc" : "grpc",
          service: "greeter.v1.Greeter",
          method: "Greet",
          code: 0,
        },
      );
    });
  }

  it("streams end their spans when the stream ends, and errors mark both spans", async () => {
    const greeter = createClient(Greeter, createTransport({ baseUrl: server.url, protocol: "grpc", needsHttp2: true }));
    const streamed = await spansOf(async () => {
      for await (const _ of greeter.greetStream({ name: "Ada", count: 3 })) {
        // drain
      }
    });
    assert.equal(streamed.server.parentSpanContext?.spanId, streamed.client.spanContext().spanId);
    assert.equal(streamed.server.name, "greeter.v1.Greeter/GreetStream");

    const failed = await spansOf(() => greeter.greet({ name: " " }));
    for (const span of [failed.client, failed.server]) {
      assert.equal(span.status.code, SpanStatusCode.ERROR);
      assert.equal(span.attributes["rpc.grpc.status_code"], 3);
    }
  });
});

// OTEL_SEMCONV_STABILITY_OPT_IN: the CLI's transport and the server set to
// the same conventions, one real call at a time, both spans checked for
// every attribute either convention defines (present or absent).
const CONVENTION_KEYS = [
  "rpc.system",
  "rpc.service",
  "rpc.grpc.status_code",
  "rpc.system.name",
  "rpc.method",
  "rpc.status_code",
  "error.type",
  "server.address",
  "server.port",
] as const;

/** A name the server's inner interceptor fails with INTERNAL: an error that is the server's own fault. */
const FAIL_INTERNALLY = "fail-internally";
const failInternally: Interceptor = (next) => async (req) => {
  if (!req.stream && (req.message as { name?: string }).name === FAIL_INTERNALLY) {
    throw new ConnectError("the test made it fail", Code.Internal);
  }
  return next(req);
};

interface Expected {
  attributes: Partial<Record<(typeof CONVENTION_KEYS)[number], string | number>>;
  failed: boolean;
}

/** What a span of `side` must carry under `semconv` for a Greet call over `protocol` that ended with `code`. */
function expected(semconv: RpcSemconv, side: "client" | "server", protocol: Protocol, code: Code | 0, port: number) {
  const connect = protocol === "connect";
  const grpcName = ["OK", "", "", "INVALID_ARGUMENT", "", "", "", "", "", "", "", "", "", "INTERNAL"][code] ?? "";
  const result: Expected = { attributes: {}, failed: false };
  if (semconv !== "stable") {
    Object.assign(result.attributes, {
      "rpc.system": connect ? "connect_rpc" : "grpc",
      "rpc.service": "greeter.v1.Greeter",
      "rpc.method": "Greet",
      "rpc.grpc.status_code": code,
    });
    result.failed = code !== 0;
  }
  if (semconv !== "old") {
    // Connect has no code for success; its codes are gRPC's in lower case.
    const status = connect ? (code === 0 ? undefined : grpcName.toLowerCase()) : grpcName;
    // A server's span fails only for its own faults (INTERNAL), not the caller's (INVALID_ARGUMENT).
    const failed = code !== 0 && (side === "client" || code === Code.Internal);
    Object.assign(result.attributes, {
      "rpc.system.name": connect ? "connectrpc" : "grpc",
      "rpc.method": "greeter.v1.Greeter/Greet",
      ...(status !== undefined && { "rpc.status_code": status }),
      ...(failed && { "error.type": status }),
      ...(side === "client" && { "server.address": "127.0.0.1", "server.port": port }),
    });
    result.failed = failed;
  }
  return result;
}

for (const semconv of ["old", "stable", "dup"] as const) {
  describe(`span attributes with the ${semconv} RPC conventions, client and server`, () => {
    const exporter = new InMemorySpanExporter();
    let server: TestServer;
    before(async () => {
      trace.setGlobalTracerProvider(new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] }));
      server = await startTestServer(
        { otelSemconvStabilityOptIn: semconv === "old" ? undefined : semconv },
        { spanExporter: exporter, innerInterceptors: [failInternally] },
      );
    });
    after(async () => {
      await server.close();
      trace.disable();
    });

    const outcomes = [
      { name: "Ada", code: 0 },
      { name: " ", code: Code.InvalidArgument },
      { name: FAIL_INTERNALLY, code: Code.Internal },
    ] as const;
    for (const protocol of ["grpc", "connect"] as const) {
      for (const { name, code } of outcomes) {
        it(`${protocol}, ${code === 0 ? "OK" : Code[code]}`, async () => {
          const transport = createTransport({ baseUrl: server.url, protocol, needsHttp2: false, semconv });
          const greeter = createClient(Greeter, transport);
          exporter.reset();
          const answer = await greeter.greet({ name }).then(
            () => 0,
            (e: unknown) => ConnectError.from(e).code,
          );
          assert.equal(answer, code);
          const spans = exporter.getFinishedSpans();
          for (const side of ["client", "server"] as const) {
            const span = spans.find((s) => s.kind === (side === "client" ? SpanKind.CLIENT : SpanKind.SERVER));
            assert.ok(span, `a ${side} span`);
            assert.equal(span.name, "greeter.v1.Greeter/Greet");
            const want = expected(semconv, side, protocol, code, server.port);
            const got = Object.fromEntries(
              CONVENTION_KEYS.filter((k) => span.attributes[k] !== undefined).map((k) => [k, span.attributes[k]]),
            );
            assert.deepEqual(got, want.attributes, `${side} span`);
            assert.equal(span.status.code, want.failed ? SpanStatusCode.ERROR : SpanStatusCode.UNSET, `${side} status`);
          }
        });
      }
    }
  });
}
