import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import net from "node:net";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { Greeter } from "@greeter/proto/greeter/v1/greeter_pb.js";
import { goawaysIn, rapidResetFlood } from "./raw-requests.js";
import { captureLogs, startTestServer, type TestServer } from "./testing.js";

const STORM_CLIENT = fileURLToPath(new URL("./deadline-storm-client.ts", import.meta.url));
const NGHTTP2_ENHANCE_YOUR_CALM = 11;

/** Runs the deadline storm in a process of its own; resolves to how many calls ended with each status. */
async function deadlineStorm(port: number, calls: number): Promise<Record<string, number>> {
  const child = spawn(
    process.execPath,
    ["--conditions=source", "--import", "tsx", STORM_CLIENT, `127.0.0.1:${port}`, String(calls), "1", "500"],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  const killer = setTimeout(() => child.kill("SIGKILL"), 60_000);
  let out = "";
  child.stdout.setEncoding("utf8");
  child.stdout.on("data", (d: string) => {
    out += d;
  });
  const [exitCode] = await once(child, "exit");
  clearTimeout(killer);
  assert.equal(exitCode, 0, `the storm client failed: ${out}`);
  return JSON.parse(out) as Record<string, number>;
}

describe("cancellations are not a reset flood", () => {
  const logs = captureLogs();
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ logLevel: "info" }, { logDestination: logs.destination });
  });
  after(() => server.close());

  it("10,000 grpc-js calls with a 1 ms deadline over two connections each end OK or DEADLINE_EXCEEDED", async () => {
    // Before the reset limit was ours, Node's (a burst of 1,000 RST_STREAMs,
    // then 33 a second) closed these connections with INTERNAL_ERROR, and
    // hundreds of calls failed with INTERNAL.
    const ended = await deadlineStorm(server.port, 10_000);
    const total = Object.values(ended).reduce((a, b) => a + b, 0);
    assert.equal(total, 10_000);
    const others = Object.keys(ended).filter((code) => code !== "OK" && code !== "DEADLINE_EXCEEDED");
    assert.deepEqual(others, [], `every call ends OK or DEADLINE_EXCEEDED: ${JSON.stringify(ended)}`);
    assert.ok((ended.DEADLINE_EXCEEDED ?? 0) > 0, "the storm made calls miss their deadline");
    const peers = new Set(logs.lines.filter((l) => l.procedure === "/greeter.v1.Greeter/Greet").map((l) => l.peer));
    assert.equal(peers.size, 2, `two connections: ${[...peers].join(", ")}`);
    assert.equal(
      logs.lines.filter((l) => l.msg === "http2 connection cut: reset flood").length,
      0,
      "no connection was cut",
    );
  });

  it("20,000 HEADERS + RST_STREAM pairs from one connection are cut with ENHANCE_YOUR_CALM, and others are served", async () => {
    const socket = net.connect(server.port, "127.0.0.1");
    const received: Buffer[] = [];
    socket.on("data", (d: Buffer) => received.push(d));
    socket.on("error", () => {});
    const closed = once(socket, "close");
    await once(socket, "connect");
    const killer = setTimeout(() => socket.destroy(), 30_000);
    socket.write(rapidResetFlood("/greeter.v1.Greeter/Greet", 20_000));
    await closed;
    clearTimeout(killer);

    const goaways = goawaysIn(Buffer.concat(received));
    assert.deepEqual(
      goaways.map((g) => g.code),
      [NGHTTP2_ENHANCE_YOUR_CALM],
      "one GOAWAY, ENHANCE_YOUR_CALM, before the connection closed",
    );
    const streamsServed = ((goaways[0]?.lastStreamId ?? 0) + 1) / 2;
    assert.ok(streamsServed < 20_000, `cut before the flood ended (after ${streamsServed} streams)`);
    const cut = logs.lines.filter((l) => l.msg === "http2 connection cut: reset flood");
    assert.equal(cut.length, 1, "one warn line says so");
    assert.equal(cut[0]?.level, 40);
    assert.match(String(cut[0]?.peer), /^127\.0\.0\.1:\d+$/);

    assert.deepEqual(
      logs.lines.filter((l) => (l.level as number) >= 50),
      [],
      "no error line: the client's doing",
    );

    const client = createClient(Greeter, createGrpcTransport({ baseUrl: server.url }));
    assert.equal((await client.greet({ name: "Ada" })).greeting, "Hello, Ada!");
  });
});
