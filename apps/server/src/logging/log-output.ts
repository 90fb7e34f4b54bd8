import { fstatSync, writeSync } from "node:fs";
import { DEFAULT_MAX_QUEUED_BYTES } from "../config.js";
/** How long the process may wait at exit for a reader to take what is left. */
export const DEFAULT_EXIT_DEADLINE_MS = 2_000;
// How soon to try again once the reader has stopped taking bytes (a full pipe).
const RETRY_MS = 1;

export interface LogOutputOptions {
  /** @default 1 (stdout) */
  fd?: number;
  /** @default DEFAULT_MAX_QUEUED_BYTES */
  maxQueuedBytes?: number;
  /**
   * Called when everything waiting has been written after some batches were
   * dropped, with what was lost since the last call: the server logs it, so
   * a gap in the log says how big it is.
   */
  onCaughtUp?(dropped: { lines: number; bytes: number }): void;
}

/** What a log output has done so far (the server's /metrics shows it). */
export interface LogOutputStats {
  writtenLines: number;
  droppedLines: number;
  /** Bytes waiting for the reader now. */
  queuedBytes: number;
}

/** Where a batch of log lines goes: one call per batch, with how many lines it holds. */
export interface LogOutput {
  write(chunk: Buffer, lines: number): void;
  readonly stats: Readonly<LogOutputStats>;
  /** Writes what is waiting before the process exits, giving a stuck reader at most `deadlineMs`. */
  flushSync(deadlineMs?: number): void;
}

/**
 * A log output that never stops the event loop and never grows without
 * bound: each batch is written at once with one non-blocking write; what
 * the reader has no room for waits in memory and is tried again every
 * millisecond; a batch that would make more than `maxQueuedBytes` wait is
 * dropped whole and counted.
 *
 * Why not pino's sonic-boom: on a full pipe (EAGAIN) it sleeps the event
 * loop for 100 ms in sync mode, or waits 100 ms between tries in async
 * mode; either way a server logging a line per call at a few thousand
 * calls a second stalled or fell behind whenever its 64 KB pipe filled.
 * Why not process.stdout: it queues without a bound, and what it still
 * holds is lost when the process calls `process.exit`.
 */
export function createLogOutput(options: LogOutputOptions = {}): LogOutput {
  const fd = options.fd ?? 1;
  const maxQueuedBytes = options.maxQueuedBytes ?? DEFAULT_MAX_QUEUED_BYTES;
  const stats: LogOutputStats = { writtenLines: 0, droppedLines: 0, queuedBytes: 0 };
  // Waiting batches; the first may be partly written already.
  const queue: { bytes: Buffer; lines: number }[] = [];
  let unreported = { lines: 0, bytes: 0 };
  let timer: NodeJS.Timeout | undefined;

  /** Writes what the reader takes now; returns the byte count, 0 when it has no room. */
  function writeNow(bytes: Buffer): number {
    try {
      return writeSync(fd, bytes);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "EAGAIN") return 0;
      // The reader is gone (EPIPE) or the fd is bad: nothing can be written,
      // and the server must go on serving. Counted as dropped by the caller.
      return -1;
    }
  }

  function drop(lines: number, bytes: number): void {
    stats.droppedLines += lines;
    unreported = { lines: unreported.lines + lines, bytes: unreported.bytes + bytes };
  }

  /** Writes from the head of the queue until the reader has no room; true once it is empty. */
  function writeQueued(): boolean {
    while (queue.length > 0) {
      const head = queue[0] as { bytes: Buffer; lines: number };
      const n = writeNow(head.bytes);
      if (n < 0) {
        queue.shift();
        stats.queuedBytes -= head.bytes.length;
        drop(head.lines, head.bytes.length);
        continue;
      }
      stats.queuedBytes -= n;
      if (n < head.bytes.length) {
        head.bytes = head.bytes.subarray(n);
        return false;
      }
      queue.shift();
      stats.writtenLines += head.lines;
    }
    return true;
  }

  /** Writes what is queued, then either tries again later or, with all written, reports the drops. */
  function writeOrRetry(): void {
    if (!writeQueued()) schedule();
    else if (unreported.lines > 0) {
      const dropped = unreported;
      unreported = { lines: 0, bytes: 0 };
      options.onCaughtUp?.(dropped);
    }
  }

  function retry(): void {
    timer = undefined;
    writeOrRetry();
  }

  function schedule(): void {
    // Unreferenced: waiting lines never keep the process alive; exit writes them.
    timer ??= setTimeout(retry, RETRY_MS).unref();
  }

  return {
    stats,
    write(chunk, lines) {
      if (stats.queuedBytes + chunk.length > maxQueuedBytes) {
        drop(lines, chunk.length);
        return;
      }
      queue.push({ bytes: chunk, lines });
      stats.queuedBytes += chunk.length;
      // Behind a waiting batch, this one waits its turn (the retry).
      if (queue.length === 1) writeOrRetry();
      else schedule();
    },
    flushSync(deadlineMs = DEFAULT_EXIT_DEADLINE_MS) {
      clearTimeout(timer);
      timer = undefined;
      const until = Date.now() + deadlineMs;
      const pause = new Int32Array(new SharedArrayBuffer(4));
      while (!writeQueued() && Date.now() < until) Atomics.wait(pause, 0, 0, RETRY_MS);
      if (queue.length > 0) schedule();
    },
  };
}

/**
 * Makes stdout non-blocking when it is a pipe or a socket, so that a full
 * pipe answers a write at once (EAGAIN) instead of stopping the process
 * until the reader catches up. Node does this itself for the stdout it
 * opens, which is what reading `process.stdout` does; files and terminals
 * are left as they are (a write to them does not wait on a reader).
 */
export function makeStdoutNonBlocking(): void {
  const stat = fstatSync(1);
  if (stat.isFIFO() || stat.isSocket()) void process.stdout;
}
