import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { Greeter } from "@greeter/proto/greeter/v1/greeter_pb.js";
import { startTestServer, type TestServer } from "../testing.js";

/** The value of one sample in Prometheus text format, by metric name and exact labels. */
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  const wanted = Object.entries(labels)
    .map(([k, v]) => `${k}="${v}"`)
    .sort();
  for (const line of text.split("\n")) {
    const match = /^(\w+)\{([^}]*)\} (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const have = (match[2] ?? "").split(",").sort();
    if (have.length === wanted.length && have.every((l, i) => l === wanted[i])) return Number(match[3]);
  }
  return undefined;
}

describe("Prometheus /metrics", () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(() => server.close());

  it("counts every call on every path with the gRPC metric names and labels", async () => {
    const grpc = createClient(Greeter, createGrpcTransport({ baseUrl: server.url }));
    const web = createClient(Greeter, createGrpcWebTransport({ baseUrl: server.url, httpVersion: "1.1" }));
    const connectGet = createClient(
      Greeter,
      createConnectTransport({ baseUrl: server.url, httpVersion: "1.1", useHttpGet: true }),
    );
    for (let i = 0; i < 3; i++) await grpc.greet({ name: `a${i}` });
    await web.greet({ name: "b" });
    await connectGet.greet({ name: "c" });
    await grpc.greet({ name: "" }).catch(() => undefined);
    let streamed = 0;
    for await (const _ of grpc.greetStream({ name: "d", count: 7 })) streamed++;
    assert.equal(streamed, 7);

    const response = await fetch(`${server.url}/metrics`);
    assert.equal(response.status, 200);
    assert.match(response.headers.get("content-type") ?? "", /^text\/plain/);
    const text = await response.text();
    const greet = { grpc_service: "greeter.v1.Greeter", grpc_method: "Greet", grpc_type: "unary" };
    const stream = { grpc_service: "greeter.v1.Greeter", grpc_method: "GreetStream", grpc_type: "server_stream" };
    assert.equal(sample(text, "grpc_server_started_total", greet), 6);
    assert.equal(sample(text, "grpc_server_handled_total", { ...greet, grpc_code: "OK" }), 5);
    assert.equal(sample(text, "grpc_server_handled_total", { ...greet, grpc_code: "INVALID_ARGUMENT" }), 1);
    assert.equal(sample(text, "grpc_server_msg_received_total", greet), 6);
    assert.equal(sample(text, "grpc_server_msg_sent_total", greet), 5);
    assert.equal(sample(text, "grpc_server_handling_seconds_count", greet), 6);
    assert.equal(sample(text, "grpc_server_handling_seconds_bucket", { ...greet, le: "+Inf" }), 6);
    assert.equal(sample(text, "grpc_server_msg_sent_total", stream), 7);
    assert.equal(sample(text, "grpc_server_handled_total", { ...stream, grpc_code: "OK" }), 1);
    // Node's process metrics ride along.
    assert.match(text, /^process_cpu_user_seconds_total \d/m);
    assert.match(text, /^nodejs_heap_size_used_bytes \d/m);
  });

  it("is absent when the metrics interceptor is switched off", async () => {
    const bare = await startTestServer({ interceptors: [] });
    try {
      const response = await fetch(`${bare.url}/metrics`);
      assert.equal(response.status, 404);
      await response.body?.cancel();
    } finally {
      await bare.close();
    }
  });
});
