/// <reference path="./types/on-exit-leak-free.d.ts" />
import { register as onExit } from "on-exit-leak-free";
import { type DestinationStream, pino } from "pino";

/** Where a batch of log lines goes: one write call per batch. */
export interface LineSink {
  write(chunk: string): unknown;
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
      let batch = "";
      for (const line of lines) batch += typeof line === "string" ? line : line.render();
      this.sink.write(batch);
    }
    if (typeof callback === "function") callback();
  };
}

/**
 * The server's log destination: stdout, written synchronously (pino's own
 * default) a batch at a time. Lines waiting when the process exits are
 * written on the way out; only a SIGKILL loses the last interval's lines.
 */
export function createStdoutDestination(): BatchedDestination {
  const destination = new BatchedDestination(pino.destination({ dest: 1, sync: true }));
  // Held weakly: a server built and dropped (as tests do) leaves no listener behind.
  onExit(destination, (d) => d.flush());
  return destination;
}
