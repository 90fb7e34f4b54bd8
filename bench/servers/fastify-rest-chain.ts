// The fair REST peer for the shipped Greeter over HTTP/1.1: the Fastify
// route of fastify-rest.ts carrying Greeter's chain, written with Fastify's
// own means (request ids, hooks, route schemas, its pino logger):
// - a request id, the caller's x-request-id if usable, else a per-process
//   prefix and a counter, echoed on every answer (errors too);
// - one pino line per call on stdout, with the fields of Greeter's RPC line;
// - prom-client counters and a histogram with Greeter's names and labels;
// - the body checked by ajv against the JSON Schema the proto's
//   protovalidate rules generate (the OpenAPI document of `buf generate`),
//   the constraints Greeter checks with protovalidate.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import Fastify from "fastify";
import { Counter, collectDefaultMetrics, Histogram, Registry } from "prom-client";

/** What a route tells the hooks: the gRPC method it stands for, for the metrics' labels. */
interface RpcRouteConfig {
  rpc?: { service: string; method: string };
}
type Labels = { grpc_service: string; grpc_method: string; grpc_type: string };

const schemas = (
  JSON.parse(
    readFileSync(createRequire(import.meta.url).resolve("@greeter/proto/greeter/v1/greeter.openapi.json"), "utf8"),
  ) as { components: { schemas: Record<string, object> } }
).components.schemas;
const schemaOf = (name: string): object => {
  const schema = schemas[name];
  if (!schema) throw new Error(`the OpenAPI document has no schema ${name}`);
  return schema;
};

// The same rule for a caller's id as Greeter's request-id interceptor: an id
// from outside ends up in log lines, so only one that cannot forge one.
const USABLE_ID = /^[\w.:@/+=-]{1,128}$/;
const idPrefix = `${Math.random().toString(16).slice(2, 14)}-`;
let idCounter = 0;

// What Connect maps each HTTP status to, for the grpc_code label and the log's code.
const CODE_BY_STATUS: Record<number, string> = {
  400: "INVALID_ARGUMENT",
  401: "UNAUTHENTICATED",
  403: "PERMISSION_DENIED",
  404: "UNIMPLEMENTED",
  408: "DEADLINE_EXCEEDED",
  413: "RESOURCE_EXHAUSTED",
  429: "UNAVAILABLE",
  500: "INTERNAL",
  502: "UNAVAILABLE",
  503: "UNAVAILABLE",
  504: "UNAVAILABLE",
};
const codeOf = (status: number): string => (status < 300 ? "OK" : (CODE_BY_STATUS[status] ?? "UNKNOWN"));

const registry = new Registry();
collectDefaultMetrics({ register: registry });
const labelNames = ["grpc_service", "grpc_method", "grpc_type"] as const;
const registers = [registry];
const started = new Counter({ name: "grpc_server_started_total", help: "RPCs started.", labelNames, registers });
const handled = new Counter({
  name: "grpc_server_handled_total",
  help: "RPCs completed.",
  labelNames: [...labelNames, "grpc_code"],
  registers,
});
const received = new Counter({
  name: "grpc_server_msg_received_total",
  help: "Messages received.",
  labelNames,
  registers,
});
const sent = new Counter({ name: "grpc_server_msg_sent_total", help: "Messages sent.", labelNames, registers });
const seconds = new Histogram({
  name: "grpc_server_handling_seconds",
  help: "RPC latency.",
  labelNames,
  registers,
});

const app = Fastify({
  // pino on stdout, as Greeter logs; one line per call (below), not Fastify's two.
  logger: { level: "info" },
  disableRequestLogging: true,
  requestIdLogLabel: "requestId",
  genReqId(req) {
    const incoming = req.headers["x-request-id"];
    return typeof incoming === "string" && USABLE_ID.test(incoming) ? incoming : idPrefix + (++idCounter).toString(36);
  },
});

// The labels of a route, made once when it is added, not on every call.
const labelsByUrl = new Map<string, Labels>();
app.addHook("onRoute", (route) => {
  const rpc = (route.config as RpcRouteConfig | undefined)?.rpc;
  if (rpc) labelsByUrl.set(route.url, { grpc_service: rpc.service, grpc_method: rpc.method, grpc_type: "unary" });
});

app.addHook("onRequest", async (request, reply) => {
  // Set first, so that an answer the schema refuses carries it too.
  reply.header("x-request-id", request.id);
  const labels = labelsByUrl.get(request.routeOptions.url ?? "");
  if (!labels) return;
  started.inc(labels);
  received.inc(labels);
});

app.addHook("onResponse", async (request, reply) => {
  const labels = labelsByUrl.get(request.routeOptions.url ?? "");
  if (!labels) return;
  const code = codeOf(reply.statusCode);
  const durationMs = reply.elapsedTime;
  if (code === "OK") sent.inc(labels);
  handled.inc({ ...labels, grpc_code: code });
  seconds.observe(labels, durationMs / 1000);
  const { headers } = request;
  const fields = {
    procedure: request.routeOptions.url,
    streamType: "unary",
    protocol: "rest",
    peer: `${request.socket.remoteAddress}:${request.socket.remotePort}`,
    clientName: headers["x-client-name"],
    clientVersion: headers["x-client-version"],
    clientDevice: headers["x-client-device"],
    clientOs: headers["x-client-os"],
    userAgent: headers["user-agent"],
    code: code.toLowerCase(),
    durationMs: Math.round(durationMs * 1000) / 1000,
    messagesIn: 1,
    messagesOut: code === "OK" ? 1 : 0,
    bytesIn: Number(headers["content-length"] ?? 0),
    bytesOut: Number(reply.getHeader("content-length") ?? 0),
  };
  if (code === "OK") request.log.info(fields, "rpc");
  else request.log.warn(fields, "rpc failed");
});

app.post<{ Body: { name: string } }>(
  "/greet",
  {
    config: { rpc: { service: "greeter.v1.Greeter", method: "Greet" } } satisfies RpcRouteConfig,
    schema: {
      body: schemaOf("greeter.v1.GreetingRequest"),
      response: { 200: schemaOf("greeter.v1.GreetingResponse") },
    },
  },
  async (request) => ({ greeting: `Hello, ${request.body.name.trim()}!`, language: "en" }),
);

// Greeter serves its metrics on a port of their own; one port is enough here.
app.get("/metrics", async (_request, reply) => {
  reply.type(registry.contentType);
  return registry.metrics();
});

const address = await app.listen({ port: 0, host: "127.0.0.1" });
// On stderr: stdout carries the log lines.
console.error(`PORT ${new URL(address).port}`);
