import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { startTestServer, type TestServer } from "../test/testing.js";

const ALLOWED = "http://localhost:5173";

describe("CORS", () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ corsOrigins: [ALLOWED] });
  });
  after(async () => {
    await server.close();
  });

  const preflight = (origin: string) =>
    fetch(`${server.url}/greeter.v1.Greeter/Greet`, {
      method: "OPTIONS",
      headers: {
        origin,
        "access-control-request-method": "POST",
        "access-control-request-headers": "content-type,x-grpc-web,x-user-agent,grpc-timeout",
      },
    });

  it("answers a gRPC-Web preflight from an allowed origin", async () => {
    const res = await preflight(ALLOWED);
    assert.equal(res.status, 204);
    assert.equal(res.headers.get("access-control-allow-origin"), ALLOWED);
    assert.match(res.headers.get("access-control-allow-methods") ?? "", /POST/);
    const allowed = (res.headers.get("access-control-allow-headers") ?? "").toLowerCase().split(/,\s*/);
    for (const header of ["content-type", "x-grpc-web", "x-user-agent", "grpc-timeout", "connect-protocol-version"]) {
      assert.ok(allowed.includes(header), `${header} not allowed: ${allowed}`);
    }
  });

  it("does not allow other origins", async () => {
    const res = await preflight("http://evil.example");
    assert.equal(res.headers.get("access-control-allow-origin"), null);
  });

  it("exposes the gRPC-Web trailers and Connect headers to the page", async () => {
    const res = await fetch(`${server.url}/greeter.v1.Greeter/Greet`, {
      method: "POST",
      headers: { origin: ALLOWED, "content-type": "application/json" },
      body: JSON.stringify({ name: "Ada" }),
    });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("access-control-allow-origin"), ALLOWED);
    const exposed = (res.headers.get("access-control-expose-headers") ?? "").toLowerCase();
    for (const header of ["grpc-status", "grpc-message", "grpc-status-details-bin"]) {
      assert.ok(exposed.includes(header), `${header} not exposed: ${exposed}`);
    }
  });
});
