import assert from "node:assert/strict";
import { hostname } from "node:os";
import { describe, it } from "node:test";
import { pino } from "pino";
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

const fields = {
  procedure: "/greeter.v1.Greeter/Greet",
  streamType: "unary",
  peer: "127.0.0.1:53110",
  requestId: undefined,
  userAgent: 'odd "agent" \\ with\nnewline, tab\t, é, 名前 and \u2028',
  code: "ok",
  durationMs: 0.123,
  bytesIn: 12,
  notANumber: Number.NaN,
  error: undefined,
};

describe("createRpcLogWriter", () => {
  it("writes, byte for byte, the line pino writes for the same fields, at every level", (t) => {
    t.mock.timers.enable({ apis: ["Date"], now: 1_795_000_000_123 });
    const { logger, writer, fromPino, fromWriter } = pair();
    for (const level of ["debug", "info", "warn", "error"] as const) {
      logger[level](fields, "rpc");
      writer[level](fields, "rpc");
      logger[level]({}, "empty");
      writer[level]({}, "empty");
    }
    assert.equal(fromWriter.length, 8);
    assert.deepEqual(fromWriter, fromPino);
    assert.equal(JSON.parse(fromWriter[0] as string).userAgent, fields.userAgent);
  });

  it("writes pino's line also when there are no bindings or no fields", (t) => {
    t.mock.timers.enable({ apis: ["Date"], now: 7 });
    const lines: string[] = [];
    const logger = pino({ base: {} }, { write: (line: string) => lines.push(line) });
    const writer = createRpcLogWriter(logger, { write: (line: string) => lines.push(line) }, {});
    for (const f of [{}, { code: "ok" }]) {
      logger.info(f, "rpc");
      writer.info(f, "rpc");
    }
    assert.equal(lines.length, 4);
    assert.equal(lines[1], lines[0]);
    assert.equal(lines[3], lines[2]);
    assert.deepEqual(JSON.parse(lines[1] as string), { level: 30, time: 7, msg: "rpc" });
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
});
