import { create, toBinary } from "@bufbuild/protobuf";
import { createClient, type Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { Greeter, GreetingRequestSchema, GreetStreamRequestSchema } from "@greeter/proto/greeter/v1/greeter_pb.js";

/** A server process the bench starts, pinned to its own core. */
export interface ServerSpec {
  command: string[];
  env?: Record<string, string>;
  /** taskset CPU list. @default the one server core */
  cpus?: string;
}

/** One row of the table: a server, a protocol, and the load h2load puts on it. */
export interface BenchCase {
  id: string;
  label: string;
  /** Which baseline the row is (for the ratio columns), if it is one. */
  baseline?: "grpc-js" | "raw";
  server: ServerSpec;
  /** h2load arguments after the connection options: method, headers, data file, URL path. */
  request: { path: string; headers: Record<string, string>; body?: Uint8Array };
  http1: boolean;
  /** Greetings per call, for streaming rows (messages/s = calls/s × this). */
  messagesPerCall?: number;
  /** Replays one call with a real client and checks the answer, so a fast error is never counted as speed. */
  verify(baseUrl: string): Promise<void>;
}

const NAME = "World"; // 5 bytes: a short name, as most greetings carry
const GREETING = `Hello, ${NAME}!`;
const STREAM_COUNT = 1000;

// The peers run as the product does, as plain JavaScript with no loader:
// Node strips their types itself. A loader changes how V8 compiles Node's
// own request path: under tsx the bare REST route answered a third fewer
// calls and the one with the chain a tenth more (targets-not-met.md).
const node = (script: string): ServerSpec => ({
  command: [process.execPath, "--conditions=source", new URL(script, import.meta.url).pathname],
});
// A driver that starts Greeter's own build and HAProxy: its imports are
// TypeScript sources with `.js` names, which only tsx resolves, and it serves
// no call itself.
const tsxDriver = (script: string): ServerSpec => ({
  command: [process.execPath, "--conditions=source", "--import", "tsx", new URL(script, import.meta.url).pathname],
});
// The product runs from its production build, as `pnpm start` runs it (the
// same heap cap), with every interceptor on and one JSON log line per call
// (read and dropped).
const greeterServer: ServerSpec = {
  command: [process.execPath, new URL("../apps/server/dist/main.js", import.meta.url).pathname],
  env: {
    PORT: "0",
    HOST: "127.0.0.1",
    LOG_LEVEL: "info",
    NODE_ENV: "production",
    WORKERS: "1",
    NODE_OPTIONS: "--max-old-space-size=512",
  },
};

function grpcFrame(message: Uint8Array): Uint8Array {
  const frame = new Uint8Array(5 + message.length);
  new DataView(frame.buffer).setUint32(1, message.length);
  frame.set(message, 5);
  return frame;
}

const greetProto = toBinary(GreetingRequestSchema, create(GreetingRequestSchema, { name: NAME }));
const greetJson = new TextEncoder().encode(JSON.stringify({ name: NAME }));
const GREET = "/greeter.v1.Greeter/Greet";

async function expectGreeting(transport: Transport): Promise<void> {
  const res = await createClient(Greeter, transport).greet({ name: NAME });
  if (res.greeting !== GREETING) throw new Error(`expected "${GREETING}", got "${res.greeting}"`);
}

const grpcHeaders = { "content-type": "application/grpc", te: "trailers" };

/** GreetStream over gRPC: the messages/s rows, compared with each other. */
function streamCase(id: string, label: string, server: ServerSpec): BenchCase {
  return {
    id,
    label,
    server,
    request: {
      path: "/greeter.v1.Greeter/GreetStream",
      headers: grpcHeaders,
      body: grpcFrame(
        toBinary(GreetStreamRequestSchema, create(GreetStreamRequestSchema, { name: NAME, count: STREAM_COUNT })),
      ),
    },
    http1: false,
    messagesPerCall: STREAM_COUNT,
    async verify(baseUrl) {
      let n = 0;
      const client = createClient(Greeter, createGrpcTransport({ baseUrl }));
      for await (const _ of client.greetStream({ name: NAME, count: STREAM_COUNT })) n++;
      if (n !== STREAM_COUNT) throw new Error(`GreetStream sent ${n} of ${STREAM_COUNT}`);
    },
  };
}

/** The REST routes' greeting, posted as a browser or curl would. */
async function postRestGreet(
  baseUrl: string,
  headers: Record<string, string>,
): Promise<{ res: Response; body: { greeting?: string } }> {
  const res = await fetch(`${baseUrl}/greet`, {
    method: "POST",
    body: greetJson,
    headers: { "content-type": "application/json", ...headers },
  });
  return { res, body: (await res.json()) as { greeting?: string } };
}

export function benchCases(options: { python: boolean; stubsDir: string }): BenchCase[] {
  const cases: BenchCase[] = [
    {
      id: "raw",
      label: "raw node:http2, hand-parsed gRPC (ceiling)",
      baseline: "raw",
      server: node("servers/raw-http2.ts"),
      request: { path: GREET, headers: grpcHeaders, body: grpcFrame(greetProto) },
      http1: false,
      verify: (baseUrl) => expectGreeting(createGrpcTransport({ baseUrl })),
    },
    {
      id: "grpc-js",
      label: "@grpc/grpc-js",
      baseline: "grpc-js",
      server: node("servers/grpc-js.ts"),
      request: { path: GREET, headers: grpcHeaders, body: grpcFrame(greetProto) },
      http1: false,
      verify: (baseUrl) => expectGreeting(createGrpcTransport({ baseUrl })),
    },
    {
      // The fair peer for the shipped server (issue: "the same chain"):
      // request id, prom-client metrics, a pino line per call, protovalidate.
      id: "grpc-js-chain",
      label: "@grpc/grpc-js with the same chain",
      server: node("servers/grpc-js-chain.ts"),
      request: { path: GREET, headers: grpcHeaders, body: grpcFrame(greetProto) },
      http1: false,
      verify: (baseUrl) => expectGreeting(createGrpcTransport({ baseUrl })),
    },
    {
      id: "rest",
      label: "Fastify REST route, JSON over HTTP/1.1",
      server: node("servers/fastify-rest.ts"),
      request: { path: "/greet", headers: { "content-type": "application/json" }, body: greetJson },
      http1: true,
      async verify(baseUrl) {
        const { body } = await postRestGreet(baseUrl, {});
        if (body.greeting !== GREETING) throw new Error(`REST answered ${JSON.stringify(body)}`);
      },
    },
    {
      // The fair peer over HTTP/1.1: the same route carrying Greeter's chain,
      // with Fastify's own means (request id, a pino line, prom-client,
      // ajv checking the proto's rules).
      id: "rest-chain",
      label: "Fastify REST route with the same chain",
      server: node("servers/fastify-rest-chain.ts"),
      request: { path: "/greet", headers: { "content-type": "application/json" }, body: greetJson },
      http1: true,
      async verify(baseUrl) {
        const { res, body } = await postRestGreet(baseUrl, { "x-request-id": "bench-verify" });
        if (body.greeting !== GREETING) throw new Error(`REST with the chain answered ${JSON.stringify(body)}`);
        // The chain is on: the id came back and the call was counted.
        if (res.headers.get("x-request-id") !== "bench-verify") throw new Error("REST with the chain: no request id");
        const metrics = await (await fetch(`${baseUrl}/metrics`)).text();
        if (!/^grpc_server_handled_total\{[^}]*grpc_code="OK"\} [1-9]/m.test(metrics)) {
          throw new Error("REST with the chain: the call was not counted");
        }
      },
    },
    {
      id: "greeter-grpc",
      label: "Greeter: gRPC (h2c)",
      server: greeterServer,
      request: { path: GREET, headers: grpcHeaders, body: grpcFrame(greetProto) },
      http1: false,
      verify: (baseUrl) => expectGreeting(createGrpcTransport({ baseUrl })),
    },
    {
      // The same server with INTERCEPTORS=none: the difference is what the
      // interceptor chain (request id, metrics, logging, auth, validation) costs.
      id: "greeter-grpc-bare",
      label: "Greeter: gRPC (h2c), no interceptors",
      server: { ...greeterServer, env: { ...greeterServer.env, INTERCEPTORS: "none" } },
      request: { path: GREET, headers: grpcHeaders, body: grpcFrame(greetProto) },
      http1: false,
      verify: (baseUrl) => expectGreeting(createGrpcTransport({ baseUrl })),
    },
    {
      // Two workers on both cores (h2load shares the second): the 1 → 2 scaling factor.
      id: "greeter-grpc-2-workers",
      label: "Greeter: gRPC (h2c), WORKERS=2 on 2 cores",
      server: { ...greeterServer, env: { ...greeterServer.env, WORKERS: "2" }, cpus: "0,1" },
      request: { path: GREET, headers: grpcHeaders, body: grpcFrame(greetProto) },
      http1: false,
      verify: (baseUrl) => expectGreeting(createGrpcTransport({ baseUrl })),
    },
    {
      // The same server ×3 behind HAProxy, all on the server core: what the
      // balancer's extra hop costs (it buys surviving failures, not speed).
      id: "greeter-grpc-haproxy",
      label: "Greeter: gRPC (h2c), 3 replicas + HAProxy",
      server: tsxDriver("servers/haproxy-replicas.ts"),
      request: { path: GREET, headers: grpcHeaders, body: grpcFrame(greetProto) },
      http1: false,
      verify: (baseUrl) => expectGreeting(createGrpcTransport({ baseUrl })),
    },
    {
      id: "greeter-grpc-web",
      label: "Greeter: gRPC-Web (HTTP/1.1)",
      server: greeterServer,
      request: {
        path: GREET,
        headers: { "content-type": "application/grpc-web+proto", "x-grpc-web": "1" },
        body: grpcFrame(greetProto),
      },
      http1: true,
      verify: (baseUrl) => expectGreeting(createGrpcWebTransport({ baseUrl, httpVersion: "1.1" })),
    },
    ...(["1.1", "2"] as const).flatMap((httpVersion): BenchCase[] => [
      {
        id: `greeter-connect-proto-h${httpVersion[0]}`,
        label: `Greeter: Connect binary (HTTP/${httpVersion === "2" ? "2" : "1.1"})`,
        server: greeterServer,
        request: {
          path: GREET,
          headers: { "content-type": "application/proto", "connect-protocol-version": "1" },
          body: greetProto,
        },
        http1: httpVersion === "1.1",
        verify: (baseUrl) => expectGreeting(createConnectTransport({ baseUrl, httpVersion, useBinaryFormat: true })),
      },
      {
        id: `greeter-connect-json-h${httpVersion[0]}`,
        label: `Greeter: Connect JSON (HTTP/${httpVersion === "2" ? "2" : "1.1"})`,
        server: greeterServer,
        request: {
          path: GREET,
          headers: { "content-type": "application/json", "connect-protocol-version": "1" },
          body: greetJson,
        },
        http1: httpVersion === "1.1",
        verify: (baseUrl) => expectGreeting(createConnectTransport({ baseUrl, httpVersion })),
      },
    ]),
    {
      // Like for like with the REST route, which has no interceptors and
      // logs nothing: what the Connect protocol itself costs over HTTP/1.1.
      id: "greeter-connect-json-h1-bare",
      label: "Greeter: Connect JSON (HTTP/1.1), no interceptors",
      server: { ...greeterServer, env: { ...greeterServer.env, INTERCEPTORS: "none" } },
      request: {
        path: GREET,
        headers: { "content-type": "application/json", "connect-protocol-version": "1" },
        body: greetJson,
      },
      http1: true,
      verify: (baseUrl) => expectGreeting(createConnectTransport({ baseUrl, httpVersion: "1.1" })),
    },
    {
      id: "greeter-connect-get",
      label: "Greeter: Connect GET (HTTP/1.1)",
      server: greeterServer,
      request: {
        path: `${GREET}?encoding=json&message=${encodeURIComponent(JSON.stringify({ name: NAME }))}`,
        headers: {},
      },
      http1: true,
      verify: (baseUrl) => expectGreeting(createConnectTransport({ baseUrl, httpVersion: "1.1", useHttpGet: true })),
    },
    streamCase("greeter-stream", `Greeter: GreetStream, ${STREAM_COUNT} messages a call (gRPC h2c)`, greeterServer),
    streamCase("grpc-js-stream", "@grpc/grpc-js: GreetStream", node("servers/grpc-js.ts")),
    streamCase("raw-stream", "raw node:http2: GreetStream, a plain loop of writes", node("servers/raw-http2.ts")),
  ];
  if (options.python) {
    cases.push({
      id: "grpcio",
      label: "Python grpcio, sync thread pool (the talk's stack)",
      server: {
        command: ["/usr/bin/python3", new URL("servers/grpcio_server.py", import.meta.url).pathname, options.stubsDir],
      },
      request: { path: GREET, headers: grpcHeaders, body: grpcFrame(greetProto) },
      http1: false,
      verify: (baseUrl) => expectGreeting(createGrpcTransport({ baseUrl })),
    });
  }
  return cases;
}
