import assert from "node:assert/strict";
import { once } from "node:events";
import net from "node:net";
import { after, before, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { create, type DescMessage, type MessageInitShape, toBinary } from "@bufbuild/protobuf";
import { crc32c } from "@greeter/interceptors";
import { AudioChunkSchema, ChatRequestSchema, GreetStreamRequestSchema } from "@greeter/proto/greeter/v1/greeter_pb.js";
import { ServerReflectionRequestSchema } from "@greeter/proto/grpc/reflection/v1/reflection_pb.js";
import { CLIENT_PREFACE, frame, framesIn, grpcHeaderBlock, h2Frame, rstCancel } from "./raw-requests.js";
import { captureLogs, startTestServer, type TestServer } from "./testing.js";

// A call its client ends (a cut connection, a RST_STREAM CANCEL, its
// deadline) is the client's doing: CANCELLED (or DEADLINE_EXCEEDED) in
// grpc_server_handled_total and in the log line, at warn at most, with the
// peer named; never INTERNAL or OK, never an error line, on either path,
// for every kind of stream.

/** A gRPC message frame of `schema`. */
function message<D extends DescMessage>(schema: D, init: MessageInitShape<D>): Buffer {
  return frame(toBinary(schema, create(schema, init)));
}

type How = "connection cut" | "RST_STREAM CANCEL" | "deadline";
const ALL: readonly How[] = ["connection cut", "RST_STREAM CANCEL", "deadline"];

const audio = Buffer.alloc(1024, 7);
const CALLS = {
  // Client streaming (connect-node): chunks go up, the call is ended before the last.
  UploadVoiceGreeting: {
    service: "greeter.v1.Greeter",
    type: "client_stream",
    request: () =>
      Buffer.concat(Array.from({ length: 4 }, () => message(AudioChunkSchema, { data: audio, crc32c: crc32c(audio) }))),
    halfClose: false,
    hows: ALL,
  },
  // Server streaming (the fast path with gRPC; connect-node with FAST_PATH=false): ended after its first answer.
  GreetStream: {
    service: "greeter.v1.Greeter",
    type: "server_stream",
    request: () => message(GreetStreamRequestSchema, { name: "Ada", count: 100, intervalMs: 50 }),
    halfClose: true,
    hows: ALL,
  },
  // Bidirectional (connect-node): one message each way, then the end.
  Chat: {
    service: "greeter.v1.Greeter",
    type: "bidi_stream",
    request: () => message(ChatRequestSchema, { name: "Ada", message: "hello" }),
    halfClose: false,
    hows: ALL,
  },
  // Bidirectional, with a handler that reads its requests with no regard
  // for its signal (Node's "Premature close" reaches it): what the handler
  // makes of the cut must not decide the code. A deadline it never sees
  // while it waits for the next request, so not that.
  ServerReflectionInfo: {
    service: "grpc.reflection.v1.ServerReflection",
    type: "bidi_stream",
    request: () => message(ServerReflectionRequestSchema, { messageRequest: { case: "listServices", value: "" } }),
    halfClose: false,
    hows: ["connection cut", "RST_STREAM CANCEL"],
  },
} as const;

// The call's deadline: long enough for the first answer to come back first.
const DEADLINE = "300m";

// Every socket a test opens is destroyed when the file ends, passed or failed.
const sockets = new Set<net.Socket>();
after(() => {
  for (const socket of sockets) socket.destroy();
});

/**
 * Starts a call on a raw HTTP/2 connection of its own (raw, because Node's
 * client ends a stream's request before it resets it), waits until the
 * server is into it, then ends it as a client would. Resolves to the
 * client's address.
 */
async function startAndAbandon(port: number, method: keyof typeof CALLS, how: How): Promise<string> {
  const call = CALLS[method];
  const socket = net.connect(port, "127.0.0.1");
  sockets.add(socket);
  socket.on("error", () => {});
  await once(socket, "connect");
  const peer = `${socket.localAddress}:${socket.localPort}`;
  let received = Buffer.alloc(0);
  socket.on("data", (d: Buffer) => {
    received = Buffer.concat([received, d]);
  });
  socket.write(
    Buffer.concat([
      CLIENT_PREFACE,
      h2Frame(1, 0x4, 1, grpcHeaderBlock(`/${call.service}/${method}`, how === "deadline" ? DEADLINE : undefined)),
      h2Frame(0, call.halfClose ? 0x1 : 0, 1, call.request()),
    ]),
  );
  // Into it: an answer is on its way (a stream), or the server has had time to read (an upload).
  for (let i = 0; i < 100 && !framesIn(received).some((f) => f.type === 0 && f.streamId === 1); i++) {
    await sleep(20);
    if (method === "UploadVoiceGreeting" && i === 10) break;
  }
  if (how === "connection cut") socket.destroy();
  else if (how === "RST_STREAM CANCEL") socket.write(rstCancel(1));
  // A deadline: the connection stays open, the server ends the call.
  return peer;
}

/** The log line of `method`'s call from `peer`, once it is written (the server learns of the cut a little later). */
async function lineOf(lines: Record<string, unknown>[], method: keyof typeof CALLS, peer: string) {
  for (let i = 0; i < 100; i++) {
    const line = lines.find((l) => l.procedure === `/${CALLS[method].service}/${method}` && l.peer === peer);
    if (line) return line;
    await sleep(50);
  }
  const mine = lines.filter((l) => l.procedure === `/${CALLS[method].service}/${method}`);
  assert.fail(`no log line for ${method} from ${peer}; lines for ${method}: ${JSON.stringify(mine)}`);
}

/** grpc_server_handled_total of one method, by code. */
async function handled(url: string, method: string): Promise<Record<string, number>> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const counts: Record<string, number> = {};
  for (const line of text.split("\n")) {
    if (!line.startsWith("grpc_server_handled_total{") || !line.includes(`grpc_method="${method}"`)) continue;
    const code = /grpc_code="(\w+)"/.exec(line)?.[1] ?? "?";
    counts[code] = Number(line.slice(line.lastIndexOf(" ") + 1));
  }
  return counts;
}

for (const fastPath of [true, false]) {
  describe(`a call the client abandons (FAST_PATH=${fastPath})`, () => {
    const logs = captureLogs();
    let server: TestServer;
    before(async () => {
      server = await startTestServer({ logLevel: "debug", fastPath }, { logDestination: logs.destination });
    });
    after(() => server.close());

    for (const method of Object.keys(CALLS) as (keyof typeof CALLS)[]) {
      for (const how of CALLS[method].hows) {
        const [code, metric] =
          how === "deadline" ? ["deadline_exceeded", "DEADLINE_EXCEEDED"] : ["canceled", "CANCELLED"];
        it(`${method}, ${how}: ${metric} at warn, in the log line and the metric, with the peer`, async () => {
          const before = await handled(server.url, method);
          const peer = await startAndAbandon(server.port, method, how);
          const line = await lineOf(logs.lines, method, peer);
          assert.equal(line.code, code, JSON.stringify(line));
          assert.equal(line.level, 40, "warn: the client's doing, not the server's");
          assert.equal(line.streamType, CALLS[method].type);
          const after = await handled(server.url, method);
          assert.equal((after[metric] ?? 0) - (before[metric] ?? 0), 1, `counts: ${JSON.stringify(after)}`);
          for (const other of ["OK", "INTERNAL", "UNKNOWN"]) {
            assert.equal(after[other] ?? 0, before[other] ?? 0, `not counted ${other}`);
          }
        });
      }
    }

    it("wrote no error line", () => {
      const errors = logs.lines.filter((l) => (l.level as number) >= 50);
      assert.deepEqual(errors, []);
    });
  });
}
