import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { Code, ConnectError, createClient, type Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { createBearerTokenInterceptor } from "@greeter/interceptors";
import { KeyProviderError } from "@greeter/interceptors/server";
import { Greeter } from "@greeter/proto/greeter/v1/greeter_pb.js";
import type { ServerConfig } from "../../src/config.js";
import {
  createSigningKey,
  HANG_UP,
  type IdentityProvider,
  notJson,
  type SigningKey,
  startIdentityProvider,
} from "../identity-provider.js";
import { captureLogs, freePort, startTestServer, type TestServer } from "../testing.js";
import { startServerProcess } from "../testing-process.js";

// Each server here checks tokens against the provider's keys; the times are
// short so that the cooldown and the key set's age pass within a test.
const COOLDOWN_MS = 300;

const servers: TestServer[] = [];
const providers: IdentityProvider[] = [];
after(async () => {
  await Promise.all(servers.map((s) => s.close()));
  await Promise.all(providers.map((p) => p.close()));
});

async function provider(...kids: string[]): Promise<IdentityProvider & { key: Record<string, SigningKey> }> {
  const idp = await startIdentityProvider();
  providers.push(idp);
  const key: Record<string, SigningKey> = {};
  for (const kid of kids) key[kid] = await createSigningKey(idp.issuer, kid);
  idp.keys = Object.values(key);
  return Object.assign(idp, { key });
}

async function serverFor(
  idp: IdentityProvider,
  overrides: Partial<ServerConfig> = {},
  logs?: ReturnType<typeof captureLogs>,
): Promise<TestServer> {
  const server = await startTestServer(
    {
      authRequired: true,
      authIssuer: idp.issuer,
      authJwksTimeoutMs: 2_000,
      authJwksCooldownMs: COOLDOWN_MS,
      ...(logs && { logLevel: "info" as const }),
      ...overrides,
    },
    logs && { logDestination: logs.destination },
  );
  servers.push(server);
  return server;
}

const connect = (baseUrl: string, interceptors = {}) =>
  createConnectTransport({ baseUrl, httpVersion: "1.1", ...interceptors });

function greet(
  server: TestServer,
  token: string,
  transport: (baseUrl: string, options: object) => Transport = connect,
) {
  const client = createClient(Greeter, transport(server.url, { interceptors: [createBearerTokenInterceptor(token)] }));
  return client.greet({ name: "Ada" });
}

async function refusal(promise: Promise<unknown>): Promise<ConnectError> {
  return promise.then(
    () => assert.fail("the call must be refused"),
    (e: unknown) => ConnectError.from(e),
  );
}

describe("keys from an identity provider", () => {
  it("finds the key set by OpenID discovery at start-up and greets with a token it signed, over gRPC, gRPC-Web and Connect", async () => {
    const idp = await provider("k1");
    const server = await serverFor(idp);
    assert.deepEqual(idp.fetches, { discovery: 1, jwks: 1 }, "both fetched once, before listening");
    const token = await idp.key.k1?.sign();
    assert.ok(token);
    for (const transport of [
      (baseUrl: string, options: object) => createGrpcTransport({ baseUrl, ...options }),
      (baseUrl: string, options: object) => createGrpcWebTransport({ baseUrl, httpVersion: "1.1", ...options }),
      connect,
    ]) {
      assert.equal((await greet(server, token, transport)).greeting, "Hello, Ada!");
    }
    assert.deepEqual(idp.fetches, { discovery: 1, jwks: 1 }, "the calls used the cached set");
  });

  it("takes the key set from AUTH_JWKS_URL without discovery", async () => {
    const idp = await provider("k1");
    const server = await serverFor(idp, { authJwksUrl: idp.jwksUrl });
    assert.deepEqual(idp.fetches, { discovery: 0, jwks: 1 });
    assert.equal((await greet(server, (await idp.key.k1?.sign()) ?? "")).greeting, "Hello, Ada!");
  });

  it("follows a rotation: a token with a new kid fetches the set again and is accepted", async () => {
    const idp = await provider("k1");
    const server = await serverFor(idp);
    const k2 = await createSigningKey(idp.issuer, "k2");
    idp.keys = [...idp.keys, k2];
    await sleep(COOLDOWN_MS + 50); // since the start-up fetch
    assert.equal((await greet(server, await k2.sign())).greeting, "Hello, Ada!");
    assert.equal(idp.fetches.jwks, 2);
    // Once known, the key needs no more fetches.
    assert.equal((await greet(server, await k2.sign({ sub: "grace" }))).greeting, "Hello, Ada!");
    assert.equal(idp.fetches.jwks, 2);
  });

  it("fetches at most once per cooldown however many unknown kids arrive", async () => {
    const idp = await provider("k1");
    const server = await serverFor(idp, { authJwksCooldownMs: 60_000 });
    const tokens = await Promise.all(
      Array.from({ length: 10 }, async (_, i) => (await createSigningKey(idp.issuer, `made-up-${i}`)).sign()),
    );
    for (const error of await Promise.all(tokens.map((t) => refusal(greet(server, t))))) {
      assert.equal(error.code, Code.Unauthenticated);
      assert.equal(error.rawMessage, "the bearer token is not valid: no key this server trusts signed it");
    }
    assert.equal(idp.fetches.jwks, 1, "only the start-up fetch: the cooldown holds");
  });

  it("refuses a token, verified and cached before, once a new set without its key is fetched", async () => {
    const idp = await provider("k1");
    const server = await serverFor(idp);
    const old = (await idp.key.k1?.sign()) ?? "";
    assert.equal((await greet(server, old)).greeting, "Hello, Ada!");
    const k2 = await createSigningKey(idp.issuer, "k2");
    idp.keys = [k2]; // k1 is withdrawn
    await sleep(COOLDOWN_MS + 50);
    assert.equal((await greet(server, await k2.sign())).greeting, "Hello, Ada!", "fetches the new set");
    const error = await refusal(greet(server, old));
    assert.equal(error.code, Code.Unauthenticated);
    assert.equal(error.rawMessage, "the bearer token is not valid: no key this server trusts signed it");
  });

  it("refuses a token whose key is gone once the set is older than AUTH_JWKS_MAX_AGE_MS", async () => {
    const idp = await provider("k1", "k2");
    const server = await serverFor(idp, { authJwksMaxAgeMs: 1_000 });
    const old = (await idp.key.k1?.sign()) ?? "";
    assert.equal((await greet(server, old)).greeting, "Hello, Ada!");
    idp.keys = idp.keys.filter((k) => k.kid !== "k1");
    await sleep(1_100);
    const error = await refusal(greet(server, old));
    assert.equal(error.rawMessage, "the bearer token is not valid: no key this server trusts signed it");
    assert.equal(idp.fetches.jwks, 2, "the stale set was fetched again");
  });

  it("keeps the last key set through an outage, says so in our words for an unknown kid, logs the failure, and recovers", async () => {
    const idp = await provider("k1");
    const logs = captureLogs();
    const server = await serverFor(idp, { authJwksMaxAgeMs: 1_000 }, logs);
    const cached = (await idp.key.k1?.sign()) ?? "";
    assert.equal((await greet(server, cached)).greeting, "Hello, Ada!");

    idp.jwks = HANG_UP;
    await sleep(1_100); // the set is stale now, and cannot be fetched
    assert.equal((await greet(server, cached)).greeting, "Hello, Ada!", "a token verified before");
    const fresh = (await idp.key.k1?.sign({ sub: "grace" })) ?? "";
    assert.equal((await greet(server, fresh)).greeting, "Hello, Ada!", "a new token of a known key");
    assert.ok(idp.fetches.jwks >= 2, "it did try");

    const k2 = await createSigningKey(idp.issuer, "k2");
    idp.keys = [...idp.keys, k2];
    const error = await refusal(greet(server, await k2.sign()));
    assert.equal(error.code, Code.Unauthenticated);
    assert.equal(
      error.rawMessage,
      "the bearer token is not valid: it names a key this server does not have, and the identity provider cannot be reached for new keys",
    );
    const failure = logs.lines.find((l) => l.level === 50 && String(l.msg).startsWith("identity provider"));
    assert.ok(failure, "the failed fetch is logged");
    assert.match(
      String((failure.err as { message: string }).message),
      new RegExp(`^${idp.jwksUrl}: could not be fetched`),
    );

    idp.jwks = undefined; // back
    await sleep(COOLDOWN_MS + 50);
    assert.equal((await greet(server, await k2.sign())).greeting, "Hello, Ada!");
  });
});

describe("algorithms from the settings, never from the token", () => {
  let idp: Awaited<ReturnType<typeof provider>>;
  let server: TestServer;
  let rsaOnly: TestServer;
  const notAccepted = "the bearer token is not valid: it is signed with an algorithm this server does not accept";
  before(async () => {
    idp = await provider("rsa");
    const ec = await createSigningKey(idp.issuer, "ec", "ES256");
    idp.keys = [...idp.keys, ec];
    idp.key.ec = ec;
    server = await serverFor(idp);
    rsaOnly = await serverFor(idp, { authAlgorithms: ["RS256"] });
  });

  it("refuses HS256 signed with the provider's public key as the secret (key confusion)", async () => {
    const jwk = idp.key.rsa?.jwk;
    const header = { alg: "HS256", kid: "rsa" };
    const now = Math.floor(Date.now() / 1000);
    const claims = { sub: "mallory", aud: "greeter", iss: idp.issuer, scope: "greeter.greet", exp: now + 600 };
    const input = `${b64(header)}.${b64(claims)}`;
    const forged = `${input}.${createHmac("sha256", JSON.stringify(jwk)).update(input).digest("base64url")}`;
    assert.equal((await refusal(greet(server, forged))).rawMessage, notAccepted);
  });

  it("refuses alg none", async () => {
    const now = Math.floor(Date.now() / 1000);
    const unsigned = `${b64({ alg: "none" })}.${b64({ sub: "mallory", aud: "greeter", iss: idp.issuer, exp: now + 600 })}.`;
    const error = await refusal(greet(server, unsigned));
    assert.equal(error.code, Code.Unauthenticated);
    assert.equal(error.rawMessage, notAccepted);
  });

  it("accepts ES256 by default, and refuses it when AUTH_ALGORITHMS=RS256", async () => {
    const token = (await idp.key.ec?.sign()) ?? "";
    assert.equal((await greet(server, token)).greeting, "Hello, Ada!");
    assert.equal((await refusal(greet(rsaOnly, token))).rawMessage, notAccepted);
    assert.equal((await greet(rsaOnly, (await idp.key.rsa?.sign()) ?? "")).greeting, "Hello, Ada!");
  });
});

describe("a provider that fails at start-up stops the server", () => {
  let idp: IdentityProvider;
  before(async () => {
    idp = await provider("k1");
  });

  const startFails = async (overrides: Partial<ServerConfig>, url: string, problem: RegExp) => {
    // Should it start after all, it is closed, so the failure is the assertion's alone.
    const started = startTestServer({ authRequired: true, ...overrides }).then((s) => s.close());
    await assert.rejects(started, (e: unknown) => {
      assert.ok(e instanceof KeyProviderError, String(e));
      assert.equal(e.url, url);
      assert.match(e.problem, problem);
      return true;
    });
  };

  it("when nothing listens at the issuer", async () => {
    const issuer = `http://127.0.0.1:${await freePort()}`;
    await startFails(
      { authIssuer: issuer },
      `${issuer}/.well-known/openid-configuration`,
      /^could not be fetched \(.*ECONNREFUSED/,
    );
  });

  it("when the provider is slower than AUTH_JWKS_TIMEOUT_MS, for discovery or the key set", async () => {
    idp.delayMs = 1_000;
    try {
      const timeout = { authJwksTimeoutMs: 200 };
      await startFails({ ...timeout, authIssuer: idp.issuer }, idp.discoveryUrl, /^did not answer within 200 ms$/);
      await startFails({ ...timeout, authJwksUrl: idp.jwksUrl }, idp.jwksUrl, /^did not answer within 200 ms$/);
    } finally {
      idp.delayMs = 0;
    }
  });

  it("when discovery answers nonsense", async () => {
    const cases: [unknown, RegExp][] = [
      [notJson("<html>sign in</html>"), /^answered something that is not JSON \(text\/html\)$/],
      [{ status: 503 }, /^answered HTTP 503, not 200$/],
      [HANG_UP, /^could not be fetched/],
      [["a", "list"], /not an OpenID configuration/],
      [{ issuer: idp.issuer }, /^has no jwks_uri$/],
      [
        { issuer: "https://elsewhere.example", jwks_uri: idp.jwksUrl },
        /^names the issuer "https:\/\/elsewhere\.example", not "http:\/\/127\.0\.0\.1:\d+"/,
      ],
      [{ issuer: idp.issuer, jwks_uri: "http://keys.example/jwks" }, /jwks_uri .* must be an https URL/],
    ];
    try {
      for (const [answer, problem] of cases) {
        idp.discovery = answer;
        await startFails({ authIssuer: idp.issuer }, idp.discoveryUrl, problem);
      }
    } finally {
      idp.discovery = undefined;
    }
  });

  it("when the key set is nonsense or has no key for the allowed algorithms", async () => {
    const cases: [unknown, RegExp, Partial<ServerConfig>?][] = [
      [notJson("keys"), /^answered something that is not JSON/],
      [{ status: 404 }, /^answered HTTP 404, not 200$/],
      [{ keys: "none" }, /^answered JSON that is not a JWK Set/],
      [{ keys: [] }, /^has no signing key for RS256, PS256, ES256, EdDSA$/],
      [undefined, /^has no signing key for ES384$/, { authAlgorithms: ["ES384"] }],
    ];
    try {
      for (const [answer, problem, overrides] of cases) {
        idp.jwks = answer;
        await startFails({ authIssuer: idp.issuer, ...overrides }, idp.jwksUrl, problem);
      }
    } finally {
      idp.jwks = undefined;
    }
  });

  it("the entry point exits 1 with one line naming the URL and the problem", async () => {
    const issuer = `http://127.0.0.1:${await freePort()}`;
    await assert.rejects(startServerProcess({ AUTH_REQUIRED: "true", AUTH_ISSUER: issuer }), (e: Error) => {
      assert.match(e.message, /^exited with 1:/);
      assert.match(
        e.message,
        new RegExp(
          `greeter-server: cannot start without the identity provider's keys: ${issuer}/\\.well-known/openid-configuration: could not be fetched`,
        ),
      );
      return true;
    });
  });
});

function b64(value: object): string {
  return Buffer.from(JSON.stringify(value)).toString("base64url");
}
