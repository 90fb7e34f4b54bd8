import assert from "node:assert/strict";
import { hostname } from "node:os";
import { describe, it } from "node:test";
import type { RpcLogFields } from "@greeter/interceptors/server";
import { pino } from "pino";
import { BatchedDestination } from "./log-destination.js";
import { createRpcLogWriter } from "./rpc-log-writer.js";

const base = { pid: process.pid, hostname: hostname() };

/** A pino logger and the RPC writer on it, each writing into its own list. */
function pair(level = "debug") {
  const fromPino: string[] = [];
  const fromWriter: string[] = [];
  const logger = pino({ level, base }, { write: (line: string) => fromPino.push(line) });
  const writer = createRpcLogWriter(logger, { write: (line: string) => fromWriter.push(line) }, base);
  return { logger, writer, fromPino, fromWriter };
}

const odd = 'odd "agent" \\ with\nnewline, tab\t, é, 名前, \u2028 and a lone \ud800';

// Every field, in the order the logging interceptor builds them.
const fields: RpcLogFields = {
  procedure: "/greeter.v1.Greeter/Greet",
  streamType: "unary",
  protocol: "grpc",
  peer: "127.0.0.1:53110",
  requestId: "3f9a0c41d2e7-1a",
  subject: "ada",
  clientName: odd,
  clientVersion: "1.2.3",
  clientDevice: undefined,
  clientOs: "linux",
  userAgent: odd,
  code: "invalid_argument",
  durationMs: 0.123,
  messagesIn: 1,
  messagesOut: 0,
  bytesIn: 12,
  bytesOut: 0,
  error: `name: ${odd}`,
  err: undefined,
};

describe("createRpcLogWriter", () => {
  it("writes, byte for byte, the line pino writes for the same fields, at every level", (t) => {
    t.mock.timers.enable({ apis: ["Date"], now: 1_795_000_000_123 });
    const { logger, writer, fromPino, fromWriter } = pair();
    const sparse = { ...fields, requestId: undefined, clientName: undefined, error: undefined };
    for (const level of ["debug", "info", "warn", "error"] as const) {
      logger[level](fields, "rpc");
      writer[level](fields, "rpc");
      logger[level](sparse, "rpc");
      writer[level](sparse, "rpc");
    }
    assert.equal(fromWriter.length, 8);
    assert.deepEqual(fromWriter, fromPino);
    assert.equal(JSON.parse(fromWriter[0] as string).userAgent, fields.userAgent);
  });

  it("writes numbers JSON cannot hold as pino does (null)", (t) => {
    t.mock.timers.enable({ apis: ["Date"], now: 1_795_000_000_123 });
    const { logger, writer, fromPino, fromWriter } = pair();
    for (const durationMs of [Number.NaN, Number.POSITIVE_INFINITY]) {
      logger.info({ ...fields, durationMs }, "rpc");
      writer.info({ ...fields, durationMs }, "rpc");
    }
    assert.deepEqual(fromWriter, fromPino);
    assert.equal(JSON.parse(fromWriter[0] as string).durationMs, null);
  });

  it("writes pino's line also when the logger has no bindings", (t) => {
    t.mock.timers.enable({ apis: ["Date"], now: 7 });
    const lines: string[] = [];
    const logger = pino({ base: {} }, { write: (line: string) => lines.push(line) });
    const writer = createRpcLogWriter(logger, { write: (line: string) => lines.push(line) }, {});
    for (const f of [fields, { ...fields, code: "ok" }]) {
      logger.info(f, "rpc");
      writer.info(f, "rpc");
    }
    assert.equal(lines.length, 4);
    assert.equal(lines[1], lines[0]);
    assert.equal(lines[3], lines[2]);
    assert.deepEqual(Object.keys(JSON.parse(lines[1] as string)).slice(0, 3), ["level", "time", "procedure"]);
  });

  it("writes nothing below the logger's level", () => {
    const { writer, fromWriter } = pair("warn");
    writer.debug(fields, "rpc");
    writer.info(fields, "rpc");
    writer.warn(fields, "rpc failed");
    assert.deepEqual(
      fromWriter.map((l) => JSON.parse(l).level),
      [40],
    );
  });

  it("leaves a line with an exception to pino and its error serializer", () => {
    const { writer, fromPino, fromWriter } = pair();
    writer.error({ ...fields, err: new TypeError("boom") }, "rpc failed");
    assert.deepEqual(fromWriter, []);
    const line = JSON.parse(fromPino[0] as string);
    assert.equal(line.err.type, "TypeError");
    assert.match(line.err.stack, /TypeError: boom/);
  });

  it("on a batched destination, makes the text at the flush: pino's bytes, in order, with the time of the call", (t) => {
    t.mock.timers.enable({ apis: ["Date"], now: 1_795_000_000_123 });
    const { logger: reference, fromPino } = pair();
    const writes: string[] = [];
    const destination = new BatchedDestination(
      { write: (c) => writes.push(c.toString()) },
      { flushIntervalMs: 60_000 },
    );
    const logger = pino({ level: "debug", base }, destination);
    const writer = createRpcLogWriter(logger, destination, base);
    writer.info(fields, "rpc");
    reference.info(fields, "rpc");
    // A line with an exception goes through pino, between the two deferred ones.
    writer.error({ ...fields, err: new TypeError("boom") }, "rpc failed");
    const sparse = { ...fields, requestId: undefined, clientOs: undefined };
    writer.warn(sparse, "rpc failed");
    reference.warn(sparse, "rpc failed");
    t.mock.timers.tick(5_000);
    assert.equal(writes.length, 0, "nothing written before the flush");
    destination.flush();
    assert.equal(writes.length, 1);
    const lines = (writes[0] ?? "").split(/(?<=\n)/);
    assert.equal(lines.length, 3);
    assert.equal(lines[0], fromPino[0]);
    assert.equal(JSON.parse(lines[1] ?? "").err.type, "TypeError");
    assert.equal(lines[2], fromPino[1]);
    assert.equal(JSON.parse(lines[2] ?? "").time, 1_795_000_000_123, "the time the call ended, not the flush's");
  });
});
