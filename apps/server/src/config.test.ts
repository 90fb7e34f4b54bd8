import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { describe, it } from "node:test";
import { authKeySource, ConfigError, describeSettings, loadConfig } from "./config.js";

describe("configuration", () => {
  it("has defaults for a local run", () => {
    const config = loadConfig({}, []);
    assert.equal(config.port, 50051);
    assert.equal(config.maxMessageBytes, 4 * 1024 * 1024);
    assert.deepEqual(config.corsOrigins, ["http://localhost:5173", "http://127.0.0.1:5173"]);
    assert.equal(config.tlsCert, undefined);
    // One port for everything, and grpcurl works with no flags.
    assert.equal(config.adminPort, undefined);
    assert.equal(config.reflection, "public");
  });

  it("takes an admin port beside the public one, 0 for both in tests", () => {
    assert.deepEqual(
      [loadConfig({ ADMIN_PORT: "9090" }, []).adminPort, loadConfig({ ADMIN_PORT: "9090" }, []).adminHost],
      [9090, "127.0.0.1"],
    );
    assert.equal(loadConfig({ PORT: "0", ADMIN_PORT: "0" }, []).adminPort, 0);
  });

  it("reads the environment, and flags win over it", () => {
    const config = loadConfig({ PORT: "8080", CORS_ORIGINS: "https://a.example, https://b.example" }, [
      "--port",
      "9090",
    ]);
    assert.equal(config.port, 9090);
    assert.deepEqual(config.corsOrigins, ["https://a.example", "https://b.example"]);
  });

  for (const [env, message] of [
    [{ PORT: "65536" }, /^PORT="65536": must be between 0 and 65535$/],
    [{ PORT: "-1" }, /^PORT="-1": must be a whole number$/],
    [{ LOG_LEVEL: "loud" }, /^LOG_LEVEL="loud": must be one of fatal, error/],
    [{ CORS_ORIGINS: "localhost:5173" }, /^CORS_ORIGINS=.*is not an origin/],
    [{ CORS_ORIGINS: "http://localhost:5173/" }, /did you mean "http:\/\/localhost:5173"\?/],
    [{ SHUTDOWN_GRACE_MS: "1.5" }, /^SHUTDOWN_GRACE_MS="1.5": must be a whole number$/],
    [{ OPENAPI: "false" }, /^DOCS=true needs OPENAPI=true/],
    [{ DOCS: "yes" }, /^DOCS="yes": must be true or false$/],
    [
      { AUTH_JWT_SECRET: "s".repeat(32), AUTH_JWKS_URL: "https://idp.example/jwks" },
      /^AUTH_JWT_SECRET and AUTH_JWKS_URL are both key sources: set one$/,
    ],
    [
      { AUTH_JWT_SECRET: "s".repeat(32), AUTH_PUBLIC_KEY_FILE: "/dev/null", AUTH_JWKS_URL: "https://idp.example/jwks" },
      /^AUTH_JWT_SECRET, AUTH_PUBLIC_KEY_FILE and AUTH_JWKS_URL are all key sources: set one$/,
    ],
    [
      { AUTH_JWKS_URL: "http://idp.example/jwks" },
      /^AUTH_JWKS_URL=.*: must be an https URL \(plain http only to localhost\)$/,
    ],
    [
      { AUTH_ISSUER: "greeter" },
      /^AUTH_ISSUER="greeter" is where the keys are discovered \(no other key source is set\), so it is not a URL$/,
    ],
    [
      { AUTH_ALGORITHMS: "RS256,none" },
      /^AUTH_ALGORITHMS="RS256,none": none is never accepted: a token must be signed$/,
    ],
    [{ AUTH_ALGORITHMS: "rs256" }, /^AUTH_ALGORITHMS="rs256": "rs256" is not a JWT algorithm; choose from HS256/],
    [
      { AUTH_JWT_SECRET: "s".repeat(32), AUTH_ALGORITHMS: "HS256,RS256" },
      /^AUTH_ALGORITHMS=HS256,RS256: AUTH_JWT_SECRET, a shared secret, verifies only HS256, HS384, HS512$/,
    ],
    [
      { AUTH_ISSUER: "https://idp.example/", AUTH_ALGORITHMS: "RS256,HS256" },
      /^AUTH_ALGORITHMS=RS256,HS256: HS256 needs a shared secret/,
    ],
    [{ OTLP_METRICS: "true" }, /^OTLP_METRICS=true needs OTEL_EXPORTER_OTLP_ENDPOINT/],
    [{ ADMIN_PORT: "50051" }, /^ADMIN_PORT=50051 is PORT too/],
    [{ ADMIN_PORT: "70000" }, /^ADMIN_PORT="70000": must be between 0 and 65535$/],
    [{ REFLECTION: "private" }, /^REFLECTION="private": must be one of public, auth, off$/],
    [
      { REFLECTION: "auth" },
      /^REFLECTION=auth needs AUTH_JWT_SECRET, AUTH_PUBLIC_KEY_FILE, AUTH_JWKS_URL or AUTH_ISSUER/,
    ],
    [{ REFLECTION: "auth", INTERCEPTORS: "none" }, /^REFLECTION=auth needs the auth interceptor/],
  ] as const) {
    it(`refuses ${JSON.stringify(env)}`, () => {
      assert.throws(
        () => loadConfig(env, []),
        (e: unknown) => e instanceof ConfigError && message.test(e.message),
      );
    });
  }

  it("takes AUTH_ISSUER alone as OpenID discovery, AUTH_JWKS_URL over plain http only to loopback", () => {
    const discovery = loadConfig({ AUTH_ISSUER: "https://idp.example/", AUTH_ALGORITHMS: "ES256, RS256" }, []);
    assert.equal(authKeySource(discovery), "discovery");
    assert.deepEqual(discovery.authAlgorithms, ["ES256", "RS256"]);
    assert.equal(authKeySource(loadConfig({ AUTH_ISSUER: "greeter", AUTH_JWT_SECRET: "s".repeat(32) }, [])), "secret");
    const local = loadConfig({ AUTH_JWKS_URL: "http://127.0.0.1:8080/jwks" }, []);
    assert.equal(authKeySource(local), "jwks");
    assert.equal(local.authJwksUrl, "http://127.0.0.1:8080/jwks");
    assert.equal(authKeySource(loadConfig({}, [])), undefined);
  });

  it("reads OTEL_SEMCONV_STABILITY_OPT_IN as the conventions' list: rpc/dup wins, other categories pass", () => {
    for (const [raw, semconv] of [
      ["", undefined],
      ["http", "old"],
      ["rpc", "stable"],
      [" http , rpc ", "stable"],
      ["rpc/dup", "dup"],
      ["rpc,rpc/dup", "dup"],
      ["rpc/dup,rpc", "dup"],
    ] as const) {
      assert.equal(loadConfig({ OTEL_SEMCONV_STABILITY_OPT_IN: raw }, []).otelSemconvStabilityOptIn, semconv, raw);
    }
  });

  it("refuses unknown flags", () => {
    assert.throws(() => loadConfig({}, ["--prot", "1"]), ConfigError);
  });

  it("describes every setting with its flag", () => {
    const rows = describeSettings();
    assert.ok(rows.some((r) => r.env === "SHUTDOWN_GRACE_MS" && r.flag === "shutdown-grace-ms"));
    assert.ok(rows.every((r) => r.help.length > 10));
  });
});

describe("the README", () => {
  it("documents every setting", async () => {
    const readme = await readFile(new URL("../../../README.md", import.meta.url), "utf8");
    for (const { env, flag } of describeSettings()) {
      const row = new RegExp(`^\\|\\s*\`${env}\`\\s*\\|\\s*\`--${flag}\`\\s*\\|`, "m");
      assert.match(readme, row, `README's settings table lacks ${env}`);
    }
  });
});
