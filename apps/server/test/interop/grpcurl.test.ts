import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { type Certificate, makeCertificate } from "../certificate.js";
import { startTestServer, type TestServer } from "../testing.js";
import { grpcurl } from "./grpcurl-run.js";

/** grpcurl prints a stream as JSON objects one after another, pretty-printed. */
function jsonObjects(text: string): unknown[] {
  return text
    .split(/\n(?=\{)/)
    .filter((s) => s.trim() !== "")
    .map((s) => JSON.parse(s));
}

// The same commands as docs/clients.md, with the port of a test server.
function suite(name: string, connect: () => { address: string; flags: string[] }) {
  describe(`grpcurl ${name}`, () => {
    const call = (...args: string[]) => {
      const { address, flags } = connect();
      const target = args.indexOf("@");
      return grpcurl(...flags, ...args.slice(0, target), address, ...args.slice(target + 1));
    };

    it("lists every service through reflection", async () => {
      const out = await call("@", "list");
      assert.equal(out.code, 0, out.stderr);
      assert.deepEqual(out.stdout.trim().split("\n").sort(), [
        "greeter.v1.Greeter",
        "grpc.health.v1.Health",
        "grpc.reflection.v1.ServerReflection",
        "grpc.reflection.v1alpha.ServerReflection",
      ]);
    });

    it("describes the Greeter and its request message", async () => {
      const service = await call("@", "describe", "greeter.v1.Greeter");
      assert.equal(service.code, 0, service.stderr);
      assert.match(service.stdout, /greeter\.v1\.Greeter is a service:/);
      assert.match(
        service.stdout,
        /rpc Greet \( \.greeter\.v1\.GreetingRequest \) returns \( \.greeter\.v1\.GreetingResponse \) \{\s+option idempotency_level = NO_SIDE_EFFECTS;/,
      );
      assert.match(
        service.stdout,
        /rpc GreetStream \( \.greeter\.v1\.GreetStreamRequest \) returns \( stream \.greeter\.v1\.GreetingResponse \);/,
      );
      const message = await call("@", "describe", "greeter.v1.GreetingRequest");
      assert.equal(message.code, 0, message.stderr);
      assert.match(message.stdout, /string name = 1/);
    });

    it("calls Greet with -d", async () => {
      const out = await call("-d", '{"name":"Ada"}', "@", "greeter.v1.Greeter/Greet");
      assert.equal(out.code, 0, out.stderr);
      assert.deepEqual(JSON.parse(out.stdout), { greeting: "Hello, Ada!", language: "en" });
    });

    it("receives every message of GreetStream, in order", async () => {
      const out = await call("-d", '{"name":"Ada","count":3,"interval_ms":10}', "@", "greeter.v1.Greeter/GreetStream");
      assert.equal(out.code, 0, out.stderr);
      const greetings = jsonObjects(out.stdout).map((m) => (m as { greeting: string }).greeting);
      assert.equal(greetings.length, 3, out.stdout);
      assert.equal(greetings[0], "Hello, Ada!");
      assert.equal(new Set(greetings).size, 3, `three languages: ${greetings.join(" | ")}`);
    });

    it("checks health", async () => {
      const out = await call("-d", '{"service":"greeter.v1.Greeter"}', "@", "grpc.health.v1.Health/Check");
      assert.equal(out.code, 0, out.stderr);
      assert.deepEqual(JSON.parse(out.stdout), { status: "SERVING" });
    });

    it("gets InvalidArgument with the violation for a blank name", async () => {
      const out = await call("-d", '{"name":"  "}', "@", "greeter.v1.Greeter/Greet");
      assert.notEqual(out.code, 0);
      assert.match(out.stderr, /Code: InvalidArgument/);
      // The violation travels as a buf.validate.Violations detail, which
      // grpcurl decodes through reflection: the field and the rule's message.
      assert.match(out.stderr, /buf\.validate\.Violations/);
      assert.match(out.stderr, /"name"/);
      assert.match(out.stderr, /must not be empty/);
    });
  });
}

describe("grpcurl against the one port", () => {
  let plain: TestServer;
  let secure: TestServer;
  let certificate: Certificate;

  before(async () => {
    certificate = await makeCertificate();
    plain = await startTestServer();
    secure = await startTestServer({ tlsCert: certificate.cert, tlsKey: certificate.key });
  });
  after(async () => {
    await plain?.close();
    await secure?.close();
    await certificate?.remove();
  });

  suite("-plaintext (HTTP/2 cleartext)", () => ({ address: `127.0.0.1:${plain.port}`, flags: ["-plaintext"] }));
  suite("over TLS with -cacert", () => ({
    address: `127.0.0.1:${secure.port}`,
    flags: ["-cacert", certificate.certPath],
  }));

  it("refuses a server whose certificate it does not trust", async () => {
    const out = await grpcurl(`127.0.0.1:${secure.port}`, "list");
    assert.notEqual(out.code, 0);
    assert.match(out.stderr, /certificate/);
  });
});
