import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { createBearerTokenInterceptor } from "@greeter/interceptors";
import { mintToken } from "@greeter/interceptors/server";
import { Greeter } from "@greeter/proto/greeter/v1/greeter_pb.js";
import * as grpc from "@grpc/grpc-js";
import { GREETER_SCOPE } from "../../src/access-policy.js";
import { loadConfig } from "../../src/config.js";
import { GreeterStub, HealthStub, type Stub, unary } from "../interop/grpc-js-client.js";
import { captureLogs, startTestServer, type TestServer } from "../testing.js";

const secret = randomBytes(32).toString("base64url");
const key = new TextEncoder().encode(secret);
const token = (options: { scopes?: string[]; ttlSeconds?: number; audience?: string; key?: Uint8Array } = {}) =>
  mintToken({ key, subject: "ada", audience: "greeter", scopes: [GREETER_SCOPE], ...options });
const bearer = (value: string) => {
  const metadata = new grpc.Metadata();
  metadata.set("authorization", `Bearer ${value}`);
  return metadata;
};

describe("bearer-token authentication with AUTH_REQUIRED=true", () => {
  const logs = captureLogs();
  let server: TestServer;
  let greeter: Stub;
  let health: Stub;
  before(async () => {
    server = await startTestServer(
      { authRequired: true, authJwtSecret: secret, logLevel: "info" },
      { logDestination: logs.destination },
    );
    greeter = new GreeterStub(`127.0.0.1:${server.port}`, grpc.credentials.createInsecure());
    health = new HealthStub(`127.0.0.1:${server.port}`, grpc.credentials.createInsecure());
  });
  after(async () => {
    greeter.close();
    health.close();
    await server.close();
  });

  const greetWith = (metadata?: grpc.Metadata) =>
    unary<{ greeting: string }>(greeter, "greet", { name: "Ada" }, 5_000, metadata);
  const rejection = (promise: Promise<unknown>) =>
    promise.then(
      () => assert.fail("the call must be refused"),
      (e: grpc.ServiceError) => e,
    );

  it("refuses a call without a token with UNAUTHENTICATED (grpc-js)", async () => {
    const error = await rejection(greetWith());
    assert.equal(error.code, grpc.status.UNAUTHENTICATED);
    assert.match(error.details, /needs a bearer token/);
  });

  it("accepts a valid token with the scope (grpc-js)", async () => {
    assert.equal((await greetWith(bearer(await token()))).greeting, "Hello, Ada!");
  });

  it("refuses a valid token without the scope with PERMISSION_DENIED", async () => {
    const error = await rejection(greetWith(bearer(await token({ scopes: [] }))));
    assert.equal(error.code, grpc.status.PERMISSION_DENIED);
    assert.match(error.details, /ada may not call Greeter\.Greet: the token lacks scope "greeter\.greet"/);
  });

  it("refuses forged, expired, wrong-audience and malformed tokens with UNAUTHENTICATED", async () => {
    const cases = {
      "signed with another key": await token({ key: randomBytes(32) }),
      expired: await token({ ttlSeconds: -60 }),
      "for another audience": await token({ audience: "billing" }),
      "not a JWT": "not-a-jwt",
    };
    for (const [what, value] of Object.entries(cases)) {
      const error = await rejection(greetWith(bearer(value)));
      assert.equal(error.code, grpc.status.UNAUTHENTICATED, what);
      assert.match(error.details, /the bearer token is not valid/, what);
    }
    const basic = new grpc.Metadata();
    basic.set("authorization", "Basic YWRhOnB3");
    assert.equal((await rejection(greetWith(basic))).code, grpc.status.UNAUTHENTICATED);
  });

  it("keeps health public", async () => {
    const res = await unary<{ status: string }>(health, "check", { service: "" });
    assert.equal(res.status, "SERVING");
  });

  it("guards streams too, and the client interceptor sends the token (connect-node, gRPC)", async () => {
    const value = await token();
    const without = createClient(Greeter, createGrpcTransport({ baseUrl: server.url }));
    const error = await (async () => {
      for await (const _ of without.greetStream({ name: "Ada", count: 2 })) assert.fail("no message without a token");
    })().then(
      () => assert.fail("the stream must be refused"),
      (e: unknown) => ConnectError.from(e),
    );
    assert.equal(error.code, Code.Unauthenticated);

    const withToken = createClient(
      Greeter,
      createGrpcTransport({ baseUrl: server.url, interceptors: [createBearerTokenInterceptor(value)] }),
    );
    let count = 0;
    for await (const _ of withToken.greetStream({ name: "Ada", count: 2 })) count++;
    assert.equal(count, 2);
  });

  it("answers Connect callers with HTTP 401 and 403 (fetch, Connect JSON)", async () => {
    const call = (authorization?: string) =>
      fetch(`${server.url}/greeter.v1.Greeter/Greet`, {
        method: "POST",
        headers: { "content-type": "application/json", ...(authorization && { authorization }) },
        body: JSON.stringify({ name: "Ada" }),
      });
    const missing = await call();
    assert.equal(missing.status, 401);
    assert.equal(((await missing.json()) as { code: string }).code, "unauthenticated");
    const denied = await call(`Bearer ${await token({ scopes: ["other"] })}`);
    assert.equal(denied.status, 403);
    assert.equal(((await denied.json()) as { code: string }).code, "permission_denied");
    const ok = await call(`Bearer ${await token()}`);
    assert.equal(ok.status, 200);
    assert.deepEqual(await ok.json(), { greeting: "Hello, Ada!", language: "en" });
  });

  it("logs who called, never the token", async () => {
    const value = await token();
    await greetWith(bearer(value));
    const text = logs.lines.map((l) => JSON.stringify(l)).join("\n");
    assert.ok(!text.includes(value), "the token is not in the log");
    assert.ok(!text.includes(secret), "the secret is not in the log");
    assert.ok(logs.lines.some((l) => l.subject === "ada" && l.code === "ok"));
    assert.ok(logs.lines.some((l) => l.code === "unauthenticated" && l.level === 40));
  });
});

describe("authentication when AUTH_REQUIRED is off (the default)", () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(() => server.close());

  it("lets anonymous callers greet, but never ignores a bad token", async () => {
    const anonymous = createClient(Greeter, createGrpcTransport({ baseUrl: server.url }));
    assert.equal((await anonymous.greet({ name: "Ada" })).greeting, "Hello, Ada!");
    const withBadToken = createClient(
      Greeter,
      createGrpcTransport({ baseUrl: server.url, interceptors: [createBearerTokenInterceptor("forged")] }),
    );
    const error = await withBadToken.greet({ name: "Ada" }).then(
      () => assert.fail("a bad token must be refused"),
      (e: unknown) => ConnectError.from(e),
    );
    assert.equal(error.code, Code.Unauthenticated);
    assert.match(error.rawMessage, /no key to verify tokens/);
  });
});

describe("auth settings", () => {
  it("refuse to start in ways that would leave the server open or leak the secret", () => {
    assert.throws(() => loadConfig({ AUTH_REQUIRED: "true" }, []), /AUTH_REQUIRED=true needs AUTH_JWT_SECRET/);
    assert.throws(
      () => loadConfig({ AUTH_REQUIRED: "true", AUTH_JWT_SECRET: secret, INTERCEPTORS: "logging" }, []),
      /needs the auth interceptor/,
    );
    assert.throws(
      () => loadConfig({ AUTH_JWT_SECRET: "short-secret" }, []),
      (e: Error) => e.message === "AUTH_JWT_SECRET=<hidden>: must be at least 32 characters (HS256 wants 256 bits)",
    );
    assert.throws(() => loadConfig({ INTERCEPTORS: "logging,tracer" }, []), /"tracer" is not an interceptor/);
    assert.deepEqual(loadConfig({ INTERCEPTORS: "request-id, auth" }, []).interceptors, ["auth", "request-id"]);
  });
});
