/// <reference path="../types/on-exit-leak-free.d.ts" />
import { register as onExit } from "on-exit-leak-free";
import type { DestinationStream } from "pino";
import { type LogOutput, makeStdoutNonBlocking } from "./log-output.js";

/** Where a batch of log lines goes: one write call per batch, as UTF-8 bytes it may keep. */
export interface LineSink {
  write(chunk: Buffer, lines: number): unknown;
}

/**
 * A log line whose text is made when its batch is written: for a line
 * written on every call, so that making the text runs once per batch in a
 * loop instead of between two calls' protocol work.
 */
export interface DeferredLine {
  render(): string;
}

/** How long a log line may wait for others to share its write, unless the batch fills first. */
export const DEFAULT_FLUSH_INTERVAL_MS = 20;
/** Lines in a batch that is written without waiting any longer. */
export const DEFAULT_MAX_BATCH_LINES = 512;

// Room for a full batch of RPC lines (about 400 bytes each); it grows for longer ones.
const INITIAL_BATCH_BYTES = 256 * 1024;
// Grown past this by a burst of long lines, the bytes are let go after the batch.
const MAX_KEPT_BATCH_BYTES = 4 * INITIAL_BATCH_BYTES;
// The most bytes a UTF-16 code unit takes in UTF-8.
const MAX_UTF8_BYTES_PER_UNIT = 3;

export interface BatchedDestinationOptions {
  /** @default DEFAULT_FLUSH_INTERVAL_MS */
  flushIntervalMs?: number;
  /** @default DEFAULT_MAX_BATCH_LINES */
  maxBatchLines?: number;
}

/**
 * A pino destination that collects log lines and hands them to its sink in
 * one write: at most `flushIntervalMs` after the first line of a batch, or
 * at once when `maxBatchLines` are waiting.
 *
 * Why: under load the server logs one line per RPC, and pino's asynchronous
 * destination (sonic-boom) started a thread-pool write for nearly every
 * line; with `sync: true` it made a system call per line, and batching per
 * turn of the event loop still made one per one or two calls. Any of these
 * cost more than the rest of the RPC's interceptors together. A write per
 * interval costs the same at ten calls a second or ten thousand.
 */
export class BatchedDestination implements DestinationStream {
  private lines: (string | DeferredLine)[] = [];
  private bytes = Buffer.allocUnsafe(INITIAL_BATCH_BYTES);
  private timer: NodeJS.Timeout | undefined;
  private readonly flushIntervalMs: number;
  private readonly maxBatchLines: number;

  constructor(
    private readonly sink: LineSink,
    options: BatchedDestinationOptions = {},
  ) {
    this.flushIntervalMs = options.flushIntervalMs ?? DEFAULT_FLUSH_INTERVAL_MS;
    this.maxBatchLines = options.maxBatchLines ?? DEFAULT_MAX_BATCH_LINES;
  }

  write(line: string): void {
    this.add(line);
  }

  /** Takes a line whose text is made at the flush; its parts must not change until then. */
  writeDeferred(line: DeferredLine): void {
    this.add(line);
  }

  private add(line: string | DeferredLine): void {
    this.lines.push(line);
    if (this.lines.length >= this.maxBatchLines) this.flush();
    else if (this.timer === undefined) {
      // Unreferenced: waiting lines never keep the process alive; exit writes them.
      this.timer = setTimeout(this.flush, this.flushIntervalMs).unref();
    }
  }

  /** Writes what has been collected now (pino's `logger.flush` calls it too). */
  readonly flush = (callback?: () => void): void => {
    clearTimeout(this.timer);
    this.timer = undefined;
    const { lines } = this;
    if (lines.length > 0) {
      this.lines = [];
      let end = 0;
      for (const line of lines) end = this.encode(typeof line === "string" ? line : line.render(), end);
      // A copy: a sink may keep the chunk while the next batch is made.
      this.sink.write(Buffer.from(this.bytes.subarray(0, end)), lines.length);
      if (this.bytes.length > MAX_KEPT_BATCH_BYTES) this.bytes = Buffer.allocUnsafe(INITIAL_BATCH_BYTES);
    }
    if (typeof callback === "function") callback();
  };

  /**
   * Writes a line's UTF-8 into the batch's bytes at `at`; returns where it ends.
   * Why bytes and not one string: a batch joined as a string is a rope of
   * hundreds of pieces that the write first flattens and then converts
   * (sonic-boom measures its byte length on top), which cost more than
   * making the lines; each short line converts at once into bytes that stay
   * allocated from batch to batch.
   */
  private encode(line: string, at: number): number {
    const room = at + line.length * MAX_UTF8_BYTES_PER_UNIT;
    if (room > this.bytes.length) {
      const grown = Buffer.allocUnsafe(Math.max(room, this.bytes.length * 2));
      this.bytes.copy(grown, 0, 0, at);
      this.bytes = grown;
    }
    return at + this.bytes.write(line, at);
  }
}

/**
 * The server's log destination: stdout, a batch at a time, through a log
 * output that never blocks the server (see log-output.ts for what happens
 * when the reader falls behind). Lines waiting when the process exits are
 * written on the way out; only a SIGKILL loses the last interval's lines.
 */
export function createStdoutDestination(output: LogOutput): BatchedDestination {
  makeStdoutNonBlocking();
  const destination = new BatchedDestination(output);
  // Held weakly: a server built and dropped (as tests do) leaves no listener behind.
  onExit(destination, (d) => {
    d.flush();
    output.flushSync();
  });
  return destination;
}
