import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { startTestServer, type TestServer } from "../testing.js";
import { GREETER_DESCRIPTOR_SET } from "./proto-paths.js";

// grpc_tools' protoc, called as a function: `python3 -m grpc_tools.protoc`
// adds an -I of its own, which protoc refuses next to --descriptor_set_in.
const PROTOC_MAIN = "import sys; from grpc_tools import protoc; sys.exit(protoc.main(sys.argv))";
const run = promisify(execFile);
// Debian's python3-grpcio lives with the system Python, not the one first on PATH.
const PYTHON = process.env.GRPC_PYTHON ?? "/usr/bin/python3";
const CLIENT = fileURLToPath(new URL("greeter_client.py", import.meta.url));

describe("Python grpcio client (the seed talk's stack)", () => {
  let server: TestServer;
  let stubs: string;
  let results: Map<string, Record<string, unknown>>;

  before(async () => {
    server = await startTestServer();
    stubs = await mkdtemp(join(tmpdir(), "greeter-py-"));
    // Stubs generated from our contract by grpc_tools, as a Python user
    // would, with the protovalidate module it imports.
    await run(PYTHON, [
      "-c",
      PROTOC_MAIN,
      `--descriptor_set_in=${GREETER_DESCRIPTOR_SET}`,
      `--python_out=${stubs}`,
      `--grpc_python_out=${stubs}`,
      "greeter/v1/greeter.proto",
      "buf/validate/validate.proto",
    ]);
    const { stdout } = await run(PYTHON, [CLIENT, stubs, `127.0.0.1:${server.port}`], { timeout: 30_000 });
    results = new Map(
      stdout
        .trim()
        .split("\n")
        .map((line) => JSON.parse(line) as Record<string, unknown>)
        .map((r) => [String(r.check), r]),
    );
  });
  after(async () => {
    await server?.close();
    if (stubs) await rm(stubs, { recursive: true, force: true });
  });

  it("calls Greet", () => {
    assert.equal(results.get("greet")?.greeting, "Hello, Ada!");
  });

  it("gets INVALID_ARGUMENT with the reason", () => {
    assert.deepEqual(results.get("greet-empty"), {
      check: "greet-empty",
      code: "INVALID_ARGUMENT",
      details: "name: must not be empty [name.not_blank]",
    });
  });

  it("reads GreetStream", () => {
    assert.deepEqual(results.get("greet-stream")?.greetings, ["Hello, Grace!", "Hola, Grace!", "Bonjour, Grace!"]);
  });

  it("sees the deadline end GreetStream", () => {
    assert.equal(results.get("greet-stream-deadline")?.code, "DEADLINE_EXCEEDED");
  });

  it("streams to GreetEveryone and chats", () => {
    assert.equal(results.get("greet-everyone")?.greeting, "Hello, Ada, Grace and Linus!");
    assert.equal(results.get("greet-everyone")?.count, 3);
    assert.deepEqual(results.get("chat")?.replies, ['Hello, Ada! You said: "hi".']);
  });
});
