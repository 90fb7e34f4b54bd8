import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { Code, ConnectError, createClient, type Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { createBearerTokenInterceptor } from "@greeter/interceptors";
import { mintToken } from "@greeter/interceptors/server";
import { Greeter } from "@greeter/proto/greeter/v1/greeter_pb.js";
import { ServerReflection } from "@greeter/proto/grpc/reflection/v1/reflection_pb.js";
import { Health } from "@greeter/proto/health/v1/health_pb.js";
import { GREETER_SCOPE } from "../src/access-policy.js";
import { grpcurl } from "./interop/grpcurl-run.js";
import { GREETER_DESCRIPTOR_SET } from "./interop/proto-paths.js";
import { startTestServer, type TestServer } from "./testing.js";

/** The services reflection lists, or the code it failed with. */
async function listServices(transport: Transport): Promise<string[] | Code> {
  const reflection = createClient(ServerReflection, transport);
  try {
    const names: string[] = [];
    async function* ask() {
      yield { messageRequest: { case: "listServices" as const, value: "" } };
    }
    for await (const res of reflection.serverReflectionInfo(ask(), { timeoutMs: 5_000 })) {
      if (res.messageResponse.case === "listServicesResponse") {
        names.push(...res.messageResponse.value.service.map((s) => s.name));
      }
    }
    return names.sort();
  } catch (e) {
    return ConnectError.from(e).code;
  }
}

const secret = randomBytes(32).toString("base64url");
const greeterToken = () =>
  mintToken({
    key: new TextEncoder().encode(secret),
    subject: "ada",
    audience: "greeter",
    scopes: [GREETER_SCOPE],
    ttlSeconds: 600,
  });

describe("REFLECTION=off", () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ reflection: "off" });
  });
  after(() => server.close());

  it("answers reflection UNIMPLEMENTED over gRPC and Connect, and the API still works", async () => {
    const grpc = createGrpcTransport({ baseUrl: server.url });
    assert.equal(await listServices(grpc), Code.Unimplemented);
    assert.equal(
      await listServices(createConnectTransport({ baseUrl: server.url, httpVersion: "2" })),
      Code.Unimplemented,
    );
    assert.equal((await createClient(Greeter, grpc).greet({ name: "Ada" })).greeting, "Hello, Ada!");
  });

  it("leaves grpcurl nothing to list: it calls with the contract instead (-protoset)", async () => {
    const address = `127.0.0.1:${server.port}`;
    const out = await grpcurl("-plaintext", address, "list");
    assert.notEqual(out.code, 0);
    assert.match(out.stderr, /does not support the reflection API/);
    const call = await grpcurl(
      "-plaintext",
      "-protoset",
      GREETER_DESCRIPTOR_SET,
      "-d",
      '{"name":"Ada"}',
      address,
      "greeter.v1.Greeter/Greet",
    );
    assert.equal(call.code, 0, call.stderr);
    assert.match(call.stdout, /Hello, Ada!/);
  });
});

describe("REFLECTION=auth", () => {
  let server: TestServer;
  let token = "";
  before(async () => {
    server = await startTestServer({ reflection: "auth", authJwtSecret: secret });
    token = await greeterToken();
  });
  after(() => server.close());

  it("refuses reflection without a token with UNAUTHENTICATED, serves it with one", async () => {
    assert.equal(await listServices(createGrpcTransport({ baseUrl: server.url })), Code.Unauthenticated);
    const withToken = createGrpcTransport({
      baseUrl: server.url,
      interceptors: [createBearerTokenInterceptor(token)],
    });
    assert.deepEqual(await listServices(withToken), [
      "greeter.v1.Greeter",
      "grpc.health.v1.Health",
      "grpc.reflection.v1.ServerReflection",
      "grpc.reflection.v1alpha.ServerReflection",
    ]);
  });

  it("keeps health and, with AUTH_REQUIRED=false, Greeter open to callers without a token", async () => {
    const grpc = createGrpcTransport({ baseUrl: server.url });
    assert.equal((await createClient(Health, grpc).check({ service: "" })).status, 1);
    assert.equal((await createClient(Greeter, grpc).greet({ name: "Ada" })).greeting, "Hello, Ada!");
  });

  it("lets grpcurl list with -H 'authorization: Bearer …', and not without", async () => {
    const address = `127.0.0.1:${server.port}`;
    const refused = await grpcurl("-plaintext", address, "list");
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /Unauthenticated/);
    const listed = await grpcurl("-plaintext", "-H", `authorization: Bearer ${token}`, address, "list");
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, /^greeter\.v1\.Greeter$/m);
  });
});
