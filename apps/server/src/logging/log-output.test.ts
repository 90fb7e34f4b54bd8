import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { describe, it } from "node:test";

const loggerModule = JSON.stringify(new URL("./logger.ts", import.meta.url).href);

/**
 * Runs `script` (an ES module, with `createLoggers` imported) in a child
 * whose stdout is a pipe this process reads only once the child has said
 * `ready` on stderr: until then the pipe fills as a stalled log collector's
 * would. Resolves with the child's stdout lines and its last stderr line.
 */
async function runStalled(
  script: string,
): Promise<{ lines: Record<string, unknown>[]; report: Record<string, number> }> {
  const child: ChildProcess = spawn(
    process.execPath,
    [
      "--conditions=source",
      "--import",
      "tsx",
      "--input-type=module",
      "-e",
      `import { createLoggers } from ${loggerModule};\n${script}`,
    ],
    { stdio: ["ignore", "pipe", "pipe"], timeout: 60_000 },
  );
  const stdout = child.stdout;
  const stderr = child.stderr;
  assert.ok(stdout && stderr);
  stdout.pause();
  const chunks: Buffer[] = [];
  let errors = "";
  stderr.setEncoding("utf8");
  stderr.on("data", (d: string) => {
    errors += d;
    // Only now is the pipe read: everything before was written with nobody reading.
    if (errors.includes("ready\n")) stdout.resume();
  });
  stdout.on("data", (c: Buffer) => chunks.push(c));
  // "close": the child has exited and its stdout has been read to the end.
  const [code] = await once(child, "close");
  assert.equal(code, 0, `the child failed:\n${errors}`);
  const lines = Buffer.concat(chunks)
    .toString("utf8")
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  const last = errors.split("\n").findLast((l) => l.startsWith("{")) ?? "{}";
  return { lines, report: JSON.parse(last) };
}

describe("the server's stdout log under a reader that stops reading", () => {
  it("keeps the event loop running, drops whole batches past LOG_QUEUE_BYTES, counts them and says so", async () => {
    // 20,000 lines of about 200 bytes (4 MB) against a bound of 256 KB: the
    // pipe and the bound hold a small part, so most must be dropped. Were a
    // write to wait for the reader, the child would never get to "ready".
    const { lines, report } = await runStalled(`
      const { logger, output } = createLoggers({ logLevel: "info", logFormat: "json", logQueueBytes: 256 * 1024 });
      const pad = "x".repeat(100);
      let i = 0;
      let turns = 0;
      await new Promise((done) => {
        const tick = () => {
          turns++;
          for (let n = 0; n < 500 && i < 20000; n++, i++) logger.info({ i, pad }, "rpc");
          if (i < 20000) setImmediate(tick); else done();
        };
        tick();
      });
      await new Promise((r) => setTimeout(r, 50));
      const during = { ...output.stats };
      process.stderr.write("ready\\n");
      while (output.stats.queuedBytes > 0) await new Promise((r) => setTimeout(r, 5));
      await new Promise((r) => setTimeout(r, 100)); // the warn line's own batch
      process.stderr.write(JSON.stringify({ turns, droppedDuring: during.droppedLines, queuedDuring: during.queuedBytes, ...output.stats }) + "\\n");
    `);
    const rpc = lines.filter((l) => l.msg === "rpc");
    const warn = lines.filter((l) => l.level === 40);
    assert.equal(report.turns, 40, "the loop ran all its turns while nobody read");
    assert.ok(
      (report.droppedDuring ?? 0) > 10_000,
      `most lines were dropped while the reader stalled: ${report.droppedDuring}`,
    );
    assert.ok((report.queuedDuring ?? 0) <= 256 * 1024, "no more than the bound waited in memory");
    assert.ok(rpc.length > 0, "the lines the queue held were written once the reader came back");
    assert.equal(
      rpc.length + (report.droppedLines ?? 0),
      20_000,
      "every line was either written or counted as dropped",
    );
    assert.equal(report.writtenLines, rpc.length + warn.length);
    const indexes = rpc.map((l) => l.i as number);
    assert.deepEqual(
      indexes,
      [...indexes].sort((a, b) => a - b),
      "the lines that were written came in order",
    );
    assert.equal(warn.length, 1, "one warn line reports the gap");
    assert.equal(warn[0]?.droppedLines, report.droppedLines);
    assert.match(String(warn[0]?.msg), /log lines were dropped/);
  });

  it("writes what waits within the bound before the process exits", async () => {
    // 5,000 lines (about 1 MB), well inside the default bound, all waiting
    // for the reader when process.exit is called.
    const { lines, report } = await runStalled(`
      const { logger, output } = createLoggers({ logLevel: "info", logFormat: "json" });
      const pad = "y".repeat(150);
      for (let i = 0; i < 5000; i++) logger.info({ i, pad }, "rpc");
      await new Promise((r) => setTimeout(r, 50));
      process.stderr.write(JSON.stringify({ queued: output.stats.queuedBytes }) + "\\n");
      process.stderr.write("ready\\n");
      process.exit(0);
    `);
    assert.ok((report.queued ?? 0) > 512 * 1024, `most of the lines were waiting at exit: ${report.queued} bytes`);
    assert.deepEqual(
      lines.map((l) => l.i),
      Array.from({ length: 5000 }, (_, i) => i),
    );
  });
});
