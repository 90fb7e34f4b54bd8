import assert from "node:assert/strict";
import http from "node:http";
import http2 from "node:http2";
import { after, before, beforeEach, describe, it } from "node:test";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient, type Transport } from "@connectrpc/connect";
import {
  compressionGzip,
  connectNodeAdapter,
  createConnectTransport,
  createGrpcTransport,
  createGrpcWebTransport,
} from "@connectrpc/connect-node";
// The package by its name, as an adopter imports it: its public API alone.
import { createFastPath, type NodeRequest, type NodeResponse, takeStreamsFirst } from "@greeter/connect-fast-path";
import { type ServiceError, status } from "@grpc/grpc-js";
import { createCallerEchoInterceptor, createTokenGate } from "./adopter/access.js";
import {
  KeyValueService,
  PutRequestSchema,
  WatchRequestSchema,
  WatchResponseSchema,
} from "./adopter/gen/kv/v1/kv_pb.js";
import { createGrpcJsClient, grpcJsServerStream, grpcJsUnary } from "./adopter/grpc-js-client.js";
import { createKeyValueRoutes } from "./adopter/key-value-service.js";
import { type Listening, listenOnLoopback } from "./adopter/loopback.js";
import { connectPostWithoutBody, rawGrpcCall } from "./adopter/raw-calls.js";

// Another team's service (kv.v1.KeyValueService, test/adopter/), served
// as the package README's "Use" section shows: one options object for the
// fast path and for connect-node's adapter, the fast path first, and what
// it leaves handed on. The servers count what they hand on, so that each
// test can say which path answered.

const TOKEN = "kv-token";
const AUTH = { authorization: `Bearer ${TOKEN}` };
const service = `/${KeyValueService.typeName}`;
const WATCH = `POST ${service}/Watch`;

/** `METHOD /path` of every request connect-node's adapter got. */
let handedOn: string[] = [];
/** `METHOD /path` of every request the servers' handler got. */
let requests: string[] = [];
/** The procedures the interceptor saw. */
let intercepted: string[] = [];
/** A plain node:http2 server through Node's compatibility API, as the README shows it. */
let h2: Listening;
/** The same, with the fast path offered each stream before Node wraps it (`takeStream`). */
let h2Raw: Listening;
let h1: Listening;

before(async () => {
  const options = {
    routes: createKeyValueRoutes(),
    interceptors: [createCallerEchoInterceptor((procedure) => intercepted.push(procedure))],
    requestGate: createTokenGate(new Map([[TOKEN, "ada"]])),
    readMaxBytes: 64 * 1024,
  };
  const fastPath = createFastPath(options);
  const connect = connectNodeAdapter(options);
  const serve = (req: NodeRequest, res: NodeResponse): void => {
    requests.push(`${req.method} ${req.url}`);
    if (fastPath.handle(req, res)) return;
    handedOn.push(`${req.method} ${req.url}`);
    connect(req, res);
  };
  const raw = http2.createServer(serve);
  takeStreamsFirst(raw, fastPath.takeStream);
  h2 = await listenOnLoopback(http2.createServer(serve));
  h2Raw = await listenOnLoopback(raw);
  h1 = await listenOnLoopback(http.createServer(serve));
});

after(async () => {
  await Promise.all([h2.close(), h2Raw.close(), h1.close()]);
});

beforeEach(() => {
  handedOn = [];
  requests = [];
  intercepted = [];
});

/**
 * The two HTTP/2 servers. A gRPC server stream needs HTTP/2 trailers,
 * which the fast path writes on a raw stream only: through the
 * compatibility API it hands the stream on, and connect-node answers.
 */
const HTTP2_SERVERS = [
  { name: "compatibility API", url: () => h2.url, grpcStreamsHandedOn: true },
  { name: "stream taken first", url: () => h2Raw.url, grpcStreamsHandedOn: false },
] as const;

/** connect-node's client on each protocol and HTTP version the servers speak. */
const WIRES: readonly { name: string; transport: () => Transport; streamsHandedOn: boolean }[] = [
  ...HTTP2_SERVERS.map((s) => ({
    name: `gRPC, HTTP/2, ${s.name}`,
    transport: () => createGrpcTransport({ baseUrl: s.url() }),
    streamsHandedOn: s.grpcStreamsHandedOn,
  })),
  {
    name: "gRPC-Web, HTTP/1.1",
    transport: () => createGrpcWebTransport({ baseUrl: h1.url, httpVersion: "1.1" }),
    streamsHandedOn: false,
  },
  {
    name: "Connect, HTTP/1.1",
    transport: () => createConnectTransport({ baseUrl: h1.url, httpVersion: "1.1" }),
    streamsHandedOn: false,
  },
  {
    name: "Connect, HTTP/2, GET for Get",
    transport: () => createConnectTransport({ baseUrl: h2.url, httpVersion: "2", useHttpGet: true }),
    streamsHandedOn: false,
  },
];

const isCode = (code: Code) => (e: unknown) => ConnectError.from(e).code === code;
const isGrpcStatus = (code: status) => (e: unknown) => (e as ServiceError).code === code;

describe("another Connect service, served through the package's public API", () => {
  for (const wire of WIRES) {
    it(`answers unary calls itself, behind the gate and the interceptor: ${wire.name}`, async () => {
      const client = createClient(KeyValueService, wire.transport());
      const key = `unary ${wire.name}`;
      const callers: string[] = [];
      const onHeader = (h: Headers) => callers.push(h.get("kv-caller") ?? "");
      assert.equal((await client.put({ key, value: "one" }, { headers: AUTH, onHeader })).version, 1);
      assert.equal((await client.put({ key, value: "two" }, { headers: AUTH, onHeader })).version, 2);
      const got = await client.get({ key }, { headers: AUTH, onHeader });
      assert.deepEqual([got.value, got.version], ["two", 2]);
      assert.deepEqual(callers, ["ada", "ada", "ada"], "the gate's caller, echoed by the interceptor");
      assert.deepEqual(intercepted, ["Put", "Put", "Get"]);
      if (wire.name.includes("GET")) {
        assert.ok(
          requests.some((r) => r.startsWith(`GET ${service}/Get?`)),
          "Get went as an HTTP GET",
        );
      }
      assert.deepEqual(handedOn, []);
    });

    it(`fails with the implementation's error and its metadata: ${wire.name}`, async () => {
      const client = createClient(KeyValueService, wire.transport());
      await assert.rejects(client.get({ key: "never put" }, { headers: AUTH }), (e: unknown) => {
        const err = ConnectError.from(e);
        return err.code === Code.NotFound && err.metadata.get("kv-missing-key") === "never put";
      });
      assert.deepEqual(handedOn, []);
    });

    it(`refuses a call without a known token at the gate, before the interceptors: ${wire.name}`, async () => {
      const client = createClient(KeyValueService, wire.transport());
      await assert.rejects(client.put({ key: "gated", value: "x" }), isCode(Code.Unauthenticated));
      const forged = { authorization: "Bearer forged" };
      await assert.rejects(client.get({ key: "gated" }, { headers: forged }), isCode(Code.Unauthenticated));
      assert.deepEqual(intercepted, []);
      await assert.rejects(client.get({ key: "gated" }, { headers: AUTH }), isCode(Code.NotFound), "nothing was put");
      assert.deepEqual(handedOn, []);
    });

    it(`streams a key's versions until the deadline: ${wire.name}`, async () => {
      const client = createClient(KeyValueService, wire.transport());
      const key = `watch ${wire.name}`;
      await client.put({ key, value: "one" }, { headers: AUTH });
      const seen: string[] = [];
      // Bounded by the deadline: the stream only ends with it.
      await assert.rejects(async () => {
        for await (const res of client.watch({ key }, { headers: AUTH, timeoutMs: 1000 })) {
          seen.push(res.value);
          if (res.version === 1) await client.put({ key, value: "two" }, { headers: AUTH });
        }
      }, isCode(Code.DeadlineExceeded));
      assert.deepEqual(seen, ["one", "two"]);
      assert.deepEqual(intercepted, ["Put", "Watch", "Put"]);
      assert.deepEqual(handedOn, wire.streamsHandedOn ? [WATCH] : []);
    });
  }

  for (const server of HTTP2_SERVERS) {
    describe(`grpc-js, HTTP/2 ${server.name}`, () => {
      it("unary calls, an error's metadata, the gate", async () => {
        const client = createGrpcJsClient(server.url());
        try {
          const put = await grpcJsUnary(client, KeyValueService.method.put, { key: "grpc-js", value: "v" }, AUTH);
          assert.ok(put.message.version >= 1);
          assert.deepEqual(put.headers.get("kv-caller"), ["ada"]);
          const got = await grpcJsUnary(client, KeyValueService.method.get, { key: "grpc-js" }, AUTH);
          assert.equal(got.message.value, "v");
          await assert.rejects(grpcJsUnary(client, KeyValueService.method.get, { key: "absent" }, AUTH), (e) => {
            const err = e as ServiceError;
            return err.code === status.NOT_FOUND && err.metadata.get("kv-missing-key")[0] === "absent";
          });
          await assert.rejects(
            grpcJsUnary(client, KeyValueService.method.get, { key: "grpc-js" }),
            isGrpcStatus(status.UNAUTHENTICATED),
          );
        } finally {
          client.close();
        }
        assert.deepEqual(intercepted, ["Put", "Get", "Get"]);
        assert.deepEqual(handedOn, []);
      });

      it("a server stream ended by its deadline", async () => {
        const client = createGrpcJsClient(server.url());
        const key = `grpc-js watch ${server.name}`;
        const seen: string[] = [];
        try {
          await grpcJsUnary(client, KeyValueService.method.put, { key, value: "one" }, AUTH);
          const watching = grpcJsServerStream(client, KeyValueService.method.watch, { key }, AUTH, 1000, (res) => {
            seen.push(res.value);
            if (res.version === 1) void grpcJsUnary(client, KeyValueService.method.put, { key, value: "two" }, AUTH);
          });
          await assert.rejects(watching, isGrpcStatus(status.DEADLINE_EXCEEDED));
        } finally {
          client.close();
        }
        assert.deepEqual(seen, ["one", "two"]);
        assert.deepEqual(handedOn, server.grpcStreamsHandedOn ? [WATCH] : []);
      });

      it("the server ends a stream at the deadline the request names, not only the client", async () => {
        const key = `raw watch ${server.name}`;
        const put = toBinary(PutRequestSchema, create(PutRequestSchema, { key, value: "v" }));
        assert.equal((await rawGrpcCall(server.url(), `${service}/Put`, AUTH, put)).status, "0");
        const watch = toBinary(WatchRequestSchema, create(WatchRequestSchema, { key }));
        // No client-side deadline: only the server can end this call.
        const answer = await rawGrpcCall(server.url(), `${service}/Watch`, { ...AUTH, "grpc-timeout": "300m" }, watch);
        assert.equal(answer.status, String(Code.DeadlineExceeded));
        assert.deepEqual(
          answer.messages.map((m) => fromBinary(WatchResponseSchema, m).value),
          ["v"],
        );
        assert.deepEqual(handedOn, server.grpcStreamsHandedOn ? [WATCH] : []);
      });

      it("the gate refuses before the body is read: a call that never sends one is answered", async () => {
        const answer = await rawGrpcCall(server.url(), `${service}/Put`, {}, "never");
        assert.equal(answer.status, String(Code.Unauthenticated));
        assert.deepEqual(handedOn, []);
      });
    });
  }

  describe("Connect by hand, HTTP/1.1", () => {
    const get = (key: string, headers: Record<string, string>) =>
      fetch(`${h1.url}${service}/Get?connect=v1&encoding=json&message=${encodeURIComponent(JSON.stringify({ key }))}`, {
        headers,
      });

    it("a GET: the answer, the error with its metadata, the gate", async () => {
      const client = createClient(KeyValueService, createConnectTransport({ baseUrl: h1.url, httpVersion: "1.1" }));
      await client.put({ key: "by hand", value: "v" }, { headers: AUTH });
      const found = await get("by hand", AUTH);
      assert.equal(found.status, 200);
      assert.equal(found.headers.get("kv-caller"), "ada");
      assert.deepEqual(await found.json(), { value: "v", version: 1 });
      const missing = await get("absent", AUTH);
      assert.equal(missing.status, 404);
      assert.equal(missing.headers.get("kv-missing-key"), "absent");
      assert.deepEqual(await missing.json(), { code: "not_found", message: 'no value is stored under "absent"' });
      const refused = await get("by hand", {});
      assert.equal(refused.status, 401);
      assert.deepEqual(((await refused.json()) as { code: string }).code, "unauthenticated");
      assert.equal(requests.filter((r) => r.startsWith(`GET ${service}/Get?`)).length, 3);
      assert.deepEqual(handedOn, []);
    });

    it("the gate refuses before the body is read: a POST whose body never comes is answered", async () => {
      const answer = await connectPostWithoutBody(`${h1.url}${service}/Put`);
      assert.equal(answer.status, 401);
      assert.match(answer.body, /"code":"unauthenticated"/);
      assert.deepEqual(handedOn, []);
    });
  });

  describe("what the fast path hands on, connect-node answers with the same options", () => {
    it("a client stream: through the same gate and interceptor, into the same store", async () => {
      for (const transport of [
        createGrpcTransport({ baseUrl: h2.url }),
        createConnectTransport({ baseUrl: h2.url, httpVersion: "2" }),
      ]) {
        const client = createClient(KeyValueService, transport);
        const callers: string[] = [];
        async function* entries() {
          yield { key: "many a", value: "a" };
          yield { key: "many b", value: "b" };
        }
        const onHeader = (h: Headers) => callers.push(h.get("kv-caller") ?? "");
        assert.equal((await client.putMany(entries(), { headers: AUTH, onHeader })).count, 2);
        assert.deepEqual(callers, ["ada"]);
        await assert.rejects(client.putMany(entries()), isCode(Code.Unauthenticated));
        assert.equal((await client.get({ key: "many b" }, { headers: AUTH })).value, "b");
      }
      assert.deepEqual(handedOn, Array(4).fill(`POST ${service}/PutMany`));
      assert.deepEqual(intercepted, ["PutMany", "Get", "PutMany", "Get"]);
    });

    it("a compressed request body", async () => {
      const transport = createGrpcTransport({ baseUrl: h2.url, sendCompression: compressionGzip, compressMinBytes: 0 });
      const client = createClient(KeyValueService, transport);
      await client.put({ key: "gzip", value: "zipped" }, { headers: AUTH });
      assert.deepEqual(handedOn, [`POST ${service}/Put`]);
      const plain = createClient(KeyValueService, createGrpcTransport({ baseUrl: h2.url }));
      assert.equal((await plain.get({ key: "gzip" }, { headers: AUTH })).value, "zipped");
      assert.deepEqual(handedOn, [`POST ${service}/Put`], "the uncompressed Get is the fast path's");
    });
  });
});
