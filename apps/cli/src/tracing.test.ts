import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { createClient } from "@connectrpc/connect";
import { Greeter } from "@greeter/proto/greeter/v1/greeter_pb.js";
import { startTestServer, type TestServer } from "@greeter/server/testing";
import { SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import { InMemorySpanExporter, type ReadableSpan, SimpleSpanProcessor, TracerProvider } from "@opentelemetry/sdk-trace";
import { createTransport, PROTOCOLS } from "./transport.js";

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
