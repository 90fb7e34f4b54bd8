import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { mintToken } from "@greeter/interceptors/server";
import { captureLogs, startTestServer, type TestServer } from "@greeter/server/testing";
import { SpanKind } from "@opentelemetry/api";
import { InMemorySpanExporter } from "@opentelemetry/sdk-trace";

// The scope the server asks of Greeter callers (apps/server/src/access-policy.ts).
const GREETER_SCOPE = "greeter.greet";
const MAIN = fileURLToPath(new URL("main.ts", import.meta.url));

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));

/** Runs the real CLI process, feeding `input` to its stdin. */
function greeter(args: string[], input = "", env: Record<string, string> = {}): Promise<Result> {
  return exec(process.execPath, ["--conditions=source", "--import", "tsx", MAIN, ...args], input, env);
}

function exec(command: string, args: string[], input: string, env: Record<string, string>): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: ROOT,
      stdio: ["pipe", "pipe", "pipe"],
      env: { ...process.env, GREETER_URL: "", GREETER_TOKEN: "", ...env },
      timeout: 30_000,
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding("utf8").on("data", (d: string) => {
      stderr += d;
    });
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input);
  });
}

describe("greeter CLI", () => {
  let server: TestServer;
  let url: string[];
  before(async () => {
    server = await startTestServer();
    url = ["--url", server.url];
  });
  after(async () => {
    await server.close();
  });

  it('asks "What is your name?" and greets the answer', async () => {
    const res = await greeter(url, "Ada\n");
    assert.deepEqual(res, { code: 0, stdout: "What is your name? Hello, Ada!\n", stderr: "" });
  });

  for (const protocol of ["grpc", "grpc-web", "connect"]) {
    it(`greet --name over ${protocol}`, async () => {
      const res = await greeter(["greet", "--name", "Grace", "--protocol", protocol, ...url]);
      assert.deepEqual(res, { code: 0, stdout: "Hello, Grace!\n", stderr: "" });
    });
  }

  it("stream prints each greeting", async () => {
    const res = await greeter(["stream", "--name", "Ada", "--count", "3", "--interval", "0", ...url]);
    assert.equal(res.stdout, "Hello, Ada!\nHola, Ada!\nBonjour, Ada!\n");
    assert.equal(res.code, 0);
  });

  it("everyone greets all names at once", async () => {
    const res = await greeter(["everyone", "Ada", "Grace", "Linus", ...url]);
    assert.equal(res.stdout, "Hello, Ada, Grace and Linus!\n");
  });

  for (const protocol of ["grpc", "connect"]) {
    it(`chat answers each line over ${protocol}`, async () => {
      const res = await greeter(["chat", "--name", "Ada", "--protocol", protocol, ...url], "hi\nbye\n");
      assert.equal(res.stdout, 'Hello, Ada! You said: "hi".\nHello, Ada! You said: "bye".\n');
      assert.equal(res.code, 0);
    });
  }

  it("upload sends a file in checksummed chunks and prints its SHA-256", async () => {
    const dir = await mkdtemp(join(tmpdir(), "greeter-cli-"));
    const file = join(dir, "greeting.wav");
    const bytes = Buffer.alloc(300_000, 7);
    await writeFile(file, bytes);
    const sha256 = createHash("sha256").update(bytes).digest("hex");
    const res = await greeter(["upload", file, ...url]);
    await rm(dir, { recursive: true });
    assert.deepEqual(res, { code: 0, stdout: `Uploaded 300000 bytes in 5 chunks, SHA-256 ${sha256}\n`, stderr: "" });
  });

  it("exits 1 with the code and reason of an RPC error", async () => {
    const res = await greeter(["greet", "--name", " ", ...url]);
    assert.deepEqual(res, {
      code: 1,
      stdout: "",
      stderr: "greeter: name must not be empty: fix it and try again (invalid_argument)\n",
    });
  });

  it("exits 1 when the server cannot be reached", async () => {
    const res = await greeter(["greet", "--name", "Ada", "--url", "http://127.0.0.1:1"]);
    assert.equal(res.code, 1);
    assert.equal(
      res.stderr,
      "greeter: cannot reach the server at http://127.0.0.1:1: is it running? Use --url or GREETER_URL for another (unavailable)\n",
    );
  });

  it("stops at the --timeout deadline", async () => {
    const res = await greeter([
      "stream",
      "--name",
      "Ada",
      "--count",
      "10",
      "--interval",
      "1000",
      "--timeout",
      "300",
      ...url,
    ]);
    assert.equal(res.code, 1);
    assert.equal(
      res.stderr,
      "greeter: the server did not answer in time: try again, or allow more time with --timeout MS (deadline_exceeded)\n",
    );
  });

  it("exits 2 with usage for a bad command line", async () => {
    for (const args of [
      ["greet"],
      ["shout"],
      ["greet", "--name", "A", "--protocol", "carrier-pigeon"],
      ["chat", "--name", "A", "--protocol", "grpc-web"],
    ]) {
      const res = await greeter([...args, ...url]);
      assert.equal(res.code, 2, `${args.join(" ")}: ${res.stderr}`);
      assert.match(res.stderr, /Usage: greeter/);
    }
  });
});

describe("the CLI as the README runs it: pnpm exec greeter", () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(() => server.close());

  // Byte for byte: nothing of pnpm's (its script header, ELIFECYCLE) on
  // either stream, so the output can be piped.
  it("prints only the greeting on stdout", async () => {
    const res = await exec("pnpm", ["exec", "greeter", "greet", "--name", "Ada", "--url", server.url], "", {});
    assert.deepEqual(res, { code: 0, stdout: "Hello, Ada!\n", stderr: "" });
  });

  it("prints only its own message on stderr for an invalid name, and exits 1", async () => {
    const res = await exec("pnpm", ["exec", "greeter", "greet", "--name", "", "--url", server.url], "", {});
    assert.deepEqual(res, {
      code: 1,
      stdout: "",
      stderr: "greeter: name must not be empty: fix it and try again (invalid_argument)\n",
    });
  });

  it("exits 2 for a bad command line", async () => {
    const res = await exec("pnpm", ["exec", "greeter", "greet"], "", {});
    assert.equal(res.code, 2);
    assert.equal(res.stdout, "");
    assert.match(res.stderr, /^greeter: --name is required\n\nUsage: greeter/);
  });
});

describe("greeter CLI against a server that requires a token", () => {
  const secret = "cli-test-secret-0123456789abcdef-0123";
  const logs = captureLogs();
  let server: TestServer;
  before(async () => {
    server = await startTestServer(
      { authRequired: true, authJwtSecret: secret, logLevel: "info" },
      { logDestination: logs.destination },
    );
  });
  after(() => server.close());

  it("greets with --token (or $GREETER_TOKEN), fails without, and tells the server who is calling", async () => {
    const token = await mintToken({
      key: new TextEncoder().encode(secret),
      subject: "cli-user",
      audience: "greeter",
      scopes: [GREETER_SCOPE],
    });
    for (const protocol of ["grpc", "grpc-web", "connect"]) {
      const res = await greeter([
        "greet",
        "--name",
        "Ada",
        "--token",
        token,
        "--protocol",
        protocol,
        "--url",
        server.url,
      ]);
      assert.deepEqual(res, { code: 0, stdout: "Hello, Ada!\n", stderr: "" }, protocol);
    }
    const fromEnv = await greeter(["greet", "--name", "Ada", "--url", server.url], "", { GREETER_TOKEN: token });
    assert.equal(fromEnv.stdout, "Hello, Ada!\n");
    const without = await greeter(["greet", "--name", "Ada", "--url", server.url]);
    assert.equal(without.code, 1);
    const expired = await mintToken({
      key: new TextEncoder().encode(secret),
      subject: "cli-user",
      audience: "greeter",
      scopes: [GREETER_SCOPE],
      ttlSeconds: -60,
    });
    const late = await greeter(["greet", "--name", "Ada", "--url", server.url, "--token", expired]);
    assert.deepEqual(late, {
      code: 1,
      stdout: "",
      stderr: "greeter: the token has expired: get a new one and pass it with --token (unauthenticated)\n",
    });
    assert.equal(
      without.stderr,
      "greeter: this server needs a token: pass --token TOKEN or set GREETER_TOKEN (`pnpm mint-token` makes one for a dev server) (unauthenticated)\n",
    );

    const calls = logs.lines.filter((l) => l.subject === "cli-user");
    assert.equal(calls.length, 4);
    const line = calls[0] as Record<string, string>;
    assert.equal(line.clientName, "greeter-cli");
    assert.equal(line.clientDevice, "terminal");
    assert.match(line.userAgent ?? "", /^greeter-cli\/\d+\.\d+\.\d+ node\//);
  });
});

/** The value of one sample in Prometheus text, 0 if absent: `metric{a="b",…} 3`. */
function sample(text: string, name: string, labels: Record<string, string>): number {
  for (const line of text.split("\n")) {
    if (!line.startsWith(`${name}{`)) continue;
    const body = line.slice(name.length + 1, line.lastIndexOf("}"));
    const found = Object.fromEntries([...body.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    if (Object.entries(labels).every(([k, v]) => found[k] === v)) return Number(line.slice(line.lastIndexOf(" ") + 1));
  }
  return 0;
}

describe("greeter CLI observability: client metrics and OTLP traces", () => {
  const spans = new InMemorySpanExporter();
  let server: TestServer;
  let dir: string;
  before(async () => {
    server = await startTestServer({}, { spanExporter: spans });
    dir = await mkdtemp(join(tmpdir(), "greeter-cli-metrics-"));
  });
  after(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("--metrics-file writes grpc_client_* counts of the run, matching what the server counted", async () => {
    const greet = { grpc_service: "greeter.v1.Greeter", grpc_method: "Greet", grpc_type: "unary" };
    const ok = join(dir, "ok.prom");
    assert.equal((await greeter(["greet", "--name", "Ada", "--url", server.url, "--metrics-file", ok])).code, 0);
    const text = await readFile(ok, "utf8");
    assert.equal(sample(text, "grpc_client_started_total", greet), 1);
    assert.equal(sample(text, "grpc_client_handled_total", { ...greet, grpc_code: "OK" }), 1);
    assert.equal(sample(text, "grpc_client_msg_sent_total", greet), 1);
    assert.equal(sample(text, "grpc_client_msg_received_total", greet), 1);
    assert.equal(sample(text, "grpc_client_handling_seconds_count", greet), 1);

    const bad = join(dir, "bad.prom");
    const res = await greeter(["greet", "--name", " ", "--url", server.url], "", { GREETER_METRICS_FILE: bad });
    assert.equal(res.code, 1);
    const badText = await readFile(bad, "utf8");
    assert.equal(sample(badText, "grpc_client_handled_total", { ...greet, grpc_code: "INVALID_ARGUMENT" }), 1);
    assert.equal(sample(badText, "grpc_client_msg_received_total", greet), 0);

    const stream = join(dir, "stream.prom");
    const args = ["stream", "--name", "Ada", "--count", "3", "--interval", "0", "--url", server.url];
    assert.equal((await greeter([...args, "--metrics-file", stream])).code, 0);
    const streamed = { grpc_service: "greeter.v1.Greeter", grpc_method: "GreetStream", grpc_type: "server_stream" };
    const streamText = await readFile(stream, "utf8");
    assert.equal(sample(streamText, "grpc_client_msg_received_total", streamed), 3);
    assert.equal(sample(streamText, "grpc_client_handled_total", { ...streamed, grpc_code: "OK" }), 1);

    // The server's own counters agree, call for call.
    const serverText = await (await fetch(`${server.url}/metrics`)).text();
    assert.equal(sample(serverText, "grpc_server_msg_sent_total", streamed), 3);
    assert.equal(sample(serverText, "grpc_server_handled_total", { ...greet, grpc_code: "INVALID_ARGUMENT" }), 1);
  });

  it("with OTEL_EXPORTER_OTLP_ENDPOINT, exports its CLIENT span over OTLP; the server's span is its child", async () => {
    const bodies: string[] = [];
    const collector = createServer((req, res) => {
      let body = "";
      req.setEncoding("utf8").on("data", (d: string) => {
        body += d;
      });
      req.on("end", () => {
        if (req.url === "/v1/traces") bodies.push(body);
        res.writeHead(200, { "content-type": "application/json" }).end("{}");
      });
    });
    await new Promise<void>((resolve) => collector.listen(0, "127.0.0.1", resolve));
    try {
      spans.reset();
      const endpoint = `http://127.0.0.1:${(collector.address() as AddressInfo).port}`;
      const res = await greeter(["greet", "--name", "Ada", "--url", server.url], "", {
        OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
      });
      assert.equal(res.code, 0, res.stderr);
      assert.equal(bodies.length, 1, "one batch, sent before the CLI exited");
      const exported = JSON.parse(bodies[0] ?? "{}") as OtlpTraces;
      const resource = exported.resourceSpans[0];
      const serviceName = resource?.resource.attributes.find((a) => a.key === "service.name")?.value.stringValue;
      assert.equal(serviceName, "greeter-cli");
      const client = resource?.scopeSpans.flatMap((s) => s.spans).find((s) => s.kind === 3);
      assert.equal(client?.name, "greeter.v1.Greeter/Greet");
      const serverSpan = spans.getFinishedSpans().find((s) => s.kind === SpanKind.SERVER);
      assert.equal(serverSpan?.spanContext().traceId, client?.traceId);
      assert.equal(serverSpan?.parentSpanContext?.spanId, client?.spanId);
    } finally {
      collector.close();
    }
  });
});

/** The parts of an OTLP/HTTP JSON trace export the test reads. */
interface OtlpTraces {
  resourceSpans: {
    resource: { attributes: { key: string; value: { stringValue?: string } }[] };
    scopeSpans: { spans: { name: string; kind: number; traceId: string; spanId: string }[] }[];
  }[];
}
