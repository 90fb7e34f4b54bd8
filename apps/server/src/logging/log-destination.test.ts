import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { describe, it } from "node:test";
import { setImmediate, setTimeout } from "node:timers/promises";
import { promisify } from "node:util";
import { pino } from "pino";
import { BatchedDestination, type BatchedDestinationOptions } from "./log-destination.js";

function recordingLogger(options: BatchedDestinationOptions = {}) {
  const writes: string[] = [];
  const destination = new BatchedDestination({ write: (c) => writes.push(c.toString()) }, options);
  const logger = pino({ base: undefined, timestamp: false }, destination);
  return { logger, writes };
}

const indexes = (write: string | undefined): number[] =>
  (write ?? "")
    .trimEnd()
    .split("\n")
    .map((line) => JSON.parse(line).i);

describe("BatchedDestination", () => {
  it("hands the lines of one interval to its sink as one write, in order", async () => {
    const { logger, writes } = recordingLogger({ flushIntervalMs: 30 });
    for (let i = 0; i < 3; i++) logger.info({ i }, "rpc");
    await setImmediate();
    for (let i = 3; i < 5; i++) logger.info({ i }, "rpc");
    assert.deepEqual(writes, [], "nothing is written before the interval ends");
    await setTimeout(60);
    assert.equal(writes.length, 1);
    assert.deepEqual(indexes(writes[0]), [0, 1, 2, 3, 4]);
    logger.info({ i: 5 }, "rpc");
    await setTimeout(60);
    assert.deepEqual(writes.map(indexes), [[0, 1, 2, 3, 4], [5]], "a later line starts a batch of its own");
  });

  it("writes a full batch at once, without waiting", () => {
    const { logger, writes } = recordingLogger({ flushIntervalMs: 60_000, maxBatchLines: 4 });
    for (let i = 0; i < 9; i++) logger.info({ i }, "rpc");
    assert.deepEqual(writes.map(indexes), [
      [0, 1, 2, 3],
      [4, 5, 6, 7],
    ]);
  });

  it("writes at once on flush, and calls pino's flush callback", async () => {
    const { logger, writes } = recordingLogger({ flushIntervalMs: 10 });
    logger.info({ i: 0 }, "now");
    let called = false;
    logger.flush(() => {
      called = true;
    });
    assert.equal(writes.length, 1);
    assert.equal(called, true);
    await setTimeout(30);
    assert.equal(writes.length, 1, "the timer was cancelled and nothing is written twice");
  });

  it("writes long and non-ASCII lines whole, in chunks a sink may keep", () => {
    const chunks: Buffer[] = [];
    const destination = new BatchedDestination({ write: (c) => chunks.push(c) }, { flushIntervalMs: 60_000 });
    const logger = pino({ base: undefined, timestamp: false }, destination);
    const long = "Grüße, 世界! 👋 ".repeat(40_000); // far more bytes than a batch starts with
    logger.info({ i: 0 }, "short");
    logger.info({ i: 1, long }, "long");
    logger.info({ i: 2 }, "Zoë");
    destination.flush();
    logger.info({ i: 3 }, "next batch");
    destination.flush();
    // Decoded only now: the second batch must not have overwritten the first's bytes.
    const lines = chunks.map((c) =>
      c
        .toString("utf8")
        .trimEnd()
        .split("\n")
        .map((l) => JSON.parse(l)),
    );
    assert.deepEqual(
      lines.map((batch) => batch.map((l) => [l.i, l.msg])),
      [
        [
          [0, "short"],
          [1, "long"],
          [2, "Zoë"],
        ],
        [[3, "next batch"]],
      ],
    );
    assert.equal(lines[0]?.[1]?.long, long);
  });

  it("loses no line when the process exits in the turn that logged it", async () => {
    // The server's own stdout logger, in a process that exits right after logging.
    const script = `
      import { createLoggers } from ${JSON.stringify(new URL("./logger.ts", import.meta.url).href)};
      const { logger } = createLoggers({ logLevel: "info", logFormat: "json" });
      for (let i = 0; i < 3; i++) logger.info({ i }, "before exit");
      process.exit(0);
    `;
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ["--conditions=source", "--import", "tsx", "--input-type=module", "-e", script],
      { timeout: 30_000 },
    );
    const lines = stdout
      .trimEnd()
      .split("\n")
      .map((l) => JSON.parse(l));
    assert.deepEqual(
      lines.map((l) => [l.msg, l.i]),
      [
        ["before exit", 0],
        ["before exit", 1],
        ["before exit", 2],
      ],
    );
  });
});
