import type { ServerResponse } from "node:http";
import type { Http2ServerResponse } from "node:http2";

/** How many writes a response may make in a row before it lets the event loop turn. */
export const WRITES_PER_TURN = 32;

/**
 * Makes a response's writer wait for the event loop's next turn after every
 * `every` writes, as if its buffer were full: `write` returns false and
 * 'drain' follows on the next turn (setImmediate). connect-node writes a
 * stream message by message and waits only when a write returns false, and
 * Node accepts about 64 KiB of an HTTP/2 stream before it does; until then
 * each message follows the last in the same microtask queue. A hundred
 * streams opened at once then kept the event loop from timers and sockets
 * for seconds: no other client was answered, and the memory guard's timer
 * could not run while an attack filled the heap.
 */
export function takeTurns(res: ServerResponse | Http2ServerResponse, every = WRITES_PER_TURN): void {
  let writes = 0;
  const write = res.write.bind(res) as (chunk: unknown, ...rest: unknown[]) => boolean;
  const turn = (): void => {
    res.emit("drain");
  };
  Object.defineProperty(res, "write", {
    configurable: true,
    writable: true,
    value: (chunk: unknown, ...rest: unknown[]): boolean => {
      const flushed = write(chunk, ...rest);
      if (++writes % every !== 0 || !flushed) return flushed;
      // Its own 'drain' will not come (the buffer is not full): send one
      // after the loop has turned.
      setImmediate(turn);
      return false;
    },
  });
}
