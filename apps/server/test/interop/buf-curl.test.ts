import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { startTestServer, type TestServer } from "../testing.js";
import { BUF } from "./proto-paths.js";

const run = promisify(execFile);
const GRPC_H2C = ["--protocol", "grpc", "--http2-prior-knowledge"];

/**
 * `buf curl` is an independent client (Go, connect-go + grpc reflection):
 * it learns the schema from the server alone, with no .proto files.
 */
async function bufCurl(...args: string[]): Promise<string> {
  const { stdout } = await run(BUF, ["curl", ...args], { timeout: 30_000 });
  return stdout;
}

describe("buf curl with server reflection", () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(async () => {
    await server.close();
  });

  for (const reflectProtocol of ["grpc-v1", "grpc-v1alpha"]) {
    it(`lists every service over ${reflectProtocol}`, async () => {
      const out = await bufCurl(...GRPC_H2C, "--reflect-protocol", reflectProtocol, "--list-services", server.url);
      assert.deepEqual(out.trim().split("\n").sort(), [
        "greeter.v1.Greeter",
        "grpc.health.v1.Health",
        "grpc.reflection.v1.ServerReflection",
        "grpc.reflection.v1alpha.ServerReflection",
      ]);
    });

    it(`lists the Greeter's methods over ${reflectProtocol}`, async () => {
      const out = await bufCurl(...GRPC_H2C, "--reflect-protocol", reflectProtocol, "--list-methods", server.url);
      for (const method of ["Greet", "GreetStream", "GreetEveryone", "Chat", "UploadVoiceGreeting"]) {
        assert.ok(out.includes(`greeter.v1.Greeter/${method}\n`), `${method} missing from:\n${out}`);
      }
    });
  }

  for (const [protocol, flags] of [
    ["grpc", ["--http2-prior-knowledge"]],
    ["grpcweb", []],
    ["connect", []],
  ] as const) {
    it(`calls Greet over ${protocol}, schema from reflection`, async () => {
      const out = await bufCurl(
        "--protocol",
        protocol,
        ...flags,
        "-d",
        '{"name":"Ada"}',
        `${server.url}/greeter.v1.Greeter/Greet`,
      );
      assert.deepEqual(JSON.parse(out), { greeting: "Hello, Ada!", language: "en" });
    });
  }

  it("calls GreetStream and the health service", async () => {
    const stream = await bufCurl(
      "--protocol",
      "grpc",
      "--http2-prior-knowledge",
      "-d",
      '{"name":"Ada","count":2}',
      `${server.url}/greeter.v1.Greeter/GreetStream`,
    );
    assert.match(stream, /"Hello, Ada!"[\s\S]*"Hola, Ada!"/);
    const health = await bufCurl(
      "--protocol",
      "grpc",
      "--http2-prior-knowledge",
      "-d",
      '{"service":"greeter.v1.Greeter"}',
      `${server.url}/grpc.health.v1.Health/Check`,
    );
    assert.deepEqual(JSON.parse(health), { status: "SERVING" });
  });

  it("reports a bad name as invalid_argument", async () => {
    await assert.rejects(
      bufCurl("--protocol", "connect", "-d", '{"name":""}', `${server.url}/greeter.v1.Greeter/Greet`),
      (e: { stdout?: string; stderr?: string }) => /invalid_argument/.test(`${e.stdout}${e.stderr}`),
    );
  });
});
