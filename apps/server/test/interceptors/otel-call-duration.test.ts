import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Code, ConnectError, createClient, type Interceptor, type Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { RPC_CALL_DURATION_BUCKETS } from "@greeter/interceptors/server";
import { Greeter } from "@greeter/proto/greeter/v1/greeter_pb.js";
import { type HistogramMetricData, MetricReader } from "@opentelemetry/sdk-metrics";
import { startTestServer, type TestServer } from "../testing.js";

/** A reader the test collects from when it wants, instead of a periodic OTLP export. */
class CollectingReader extends MetricReader {
  protected override async onShutdown(): Promise<void> {}
  protected override async onForceFlush(): Promise<void> {}
}

/** A name the server's inner interceptor fails with INTERNAL: an error that is the server's own fault. */
const FAIL_INTERNALLY = "fail-internally";
const failInternally: Interceptor = (next) => async (req) => {
  if (!req.stream && (req.message as { name?: string }).name === FAIL_INTERNALLY) {
    throw new ConnectError("the test made it fail", Code.Internal);
  }
  return next(req);
};

/** The calls every case makes: over gRPC and Connect, OK, the caller's error, the server's, and a stream. */
async function makeCalls(url: string): Promise<void> {
  const clients = [createGrpcTransport({ baseUrl: url }), createConnectTransport({ baseUrl: url, httpVersion: "1.1" })]
    .map((t: Transport) => createClient(Greeter, t))
    .entries();
  for (const [i, greeter] of clients) {
    await greeter.greet({ name: "Ada" });
    await assert.rejects(
      greeter.greet({ name: " " }),
      (e: unknown) => ConnectError.from(e).code === Code.InvalidArgument,
    );
    await assert.rejects(
      greeter.greet({ name: FAIL_INTERNALLY }),
      (e: unknown) => ConnectError.from(e).code === Code.Internal,
    );
    if (i === 0) {
      for await (const _ of greeter.greetStream({ name: "Ada", count: 2 })) {
        // drain: the call ends with its stream
      }
    }
  }
}

/** The histograms the server exported, by name. */
async function histograms(reader: CollectingReader): Promise<Map<string, HistogramMetricData>> {
  const { resourceMetrics, errors } = await reader.collect();
  assert.deepEqual(errors, []);
  const found = new Map<string, HistogramMetricData>();
  for (const scope of resourceMetrics.scopeMetrics) {
    for (const metric of scope.metrics) found.set(metric.descriptor.name, metric as HistogramMetricData);
  }
  return found;
}

/** Each data point's attributes, sorted for comparison, with its count. */
function points(metric: HistogramMetricData): { attributes: Record<string, unknown>; count: number }[] {
  return sorted(metric.dataPoints.map((p) => ({ attributes: { ...p.attributes }, count: p.value.count })));
}

function sorted<T extends { attributes: Record<string, unknown> }>(list: T[]): T[] {
  return list.sort((a, b) => JSON.stringify(a.attributes).localeCompare(JSON.stringify(b.attributes)));
}

const GREETER = "greeter.v1.Greeter";

// The stable histogram (semconv 1.45): seconds, the advised buckets;
// Connect has no code for OK, and a server's caller errors carry no error.type.
const STABLE_POINTS = sorted([
  { attributes: { "rpc.system.name": "grpc", "rpc.method": `${GREETER}/Greet`, "rpc.status_code": "OK" }, count: 1 },
  {
    attributes: { "rpc.system.name": "grpc", "rpc.method": `${GREETER}/Greet`, "rpc.status_code": "INVALID_ARGUMENT" },
    count: 1,
  },
  {
    attributes: {
      "rpc.system.name": "grpc",
      "rpc.method": `${GREETER}/Greet`,
      "rpc.status_code": "INTERNAL",
      "error.type": "INTERNAL",
    },
    count: 1,
  },
  {
    attributes: { "rpc.system.name": "grpc", "rpc.method": `${GREETER}/GreetStream`, "rpc.status_code": "OK" },
    count: 1,
  },
  { attributes: { "rpc.system.name": "connectrpc", "rpc.method": `${GREETER}/Greet` }, count: 1 },
  {
    attributes: {
      "rpc.system.name": "connectrpc",
      "rpc.method": `${GREETER}/Greet`,
      "rpc.status_code": "invalid_argument",
    },
    count: 1,
  },
  {
    attributes: {
      "rpc.system.name": "connectrpc",
      "rpc.method": `${GREETER}/Greet`,
      "rpc.status_code": "internal",
      "error.type": "internal",
    },
    count: 1,
  },
]);

// The old histogram (v1.37.0): milliseconds, the integer gRPC code.
const OLD_POINTS = sorted(
  [
    ["grpc", "Greet", 0],
    ["grpc", "Greet", 3],
    ["grpc", "Greet", 13],
    ["grpc", "GreetStream", 0],
    ["connect_rpc", "Greet", 0],
    ["connect_rpc", "Greet", 3],
    ["connect_rpc", "Greet", 13],
  ].map(([system, method, code]) => ({
    attributes: { "rpc.system": system, "rpc.service": GREETER, "rpc.method": method, "rpc.grpc.status_code": code },
    count: 1,
  })),
);

for (const semconv of ["old", "stable", "dup"] as const) {
  describe(`OpenTelemetry's RPC server duration, ${semconv} conventions`, () => {
    const reader = new CollectingReader();
    let server: TestServer;
    before(async () => {
      server = await startTestServer(
        { otelSemconvStabilityOptIn: semconv === "old" ? undefined : semconv },
        { metricReader: reader, innerInterceptors: [failInternally] },
      );
    });
    after(() => server.close());

    it("records one measurement per call, with the conventions' name, unit and attributes", async () => {
      await makeCalls(server.url);
      const found = await histograms(reader);
      const stable = found.get("rpc.server.call.duration");
      const old = found.get("rpc.server.duration");
      assert.deepEqual([...found.keys()].sort(), [
        ...(semconv === "old" ? [] : ["rpc.server.call.duration"]),
        ...(semconv === "stable" ? [] : ["rpc.server.duration"]),
      ]);
      if (stable) {
        assert.equal(stable.descriptor.unit, "s");
        assert.deepEqual(stable.dataPoints[0]?.value.buckets.boundaries, RPC_CALL_DURATION_BUCKETS);
        assert.deepEqual(points(stable), STABLE_POINTS);
        // Seconds, not milliseconds: a loopback call takes well under one.
        assert.ok(
          stable.dataPoints.every((p) => (p.value.sum ?? Number.NaN) < 1),
          "durations in seconds",
        );
      }
      if (old) {
        assert.equal(old.descriptor.unit, "ms");
        assert.deepEqual(points(old), OLD_POINTS);
      }
    });
  });
}
