import type { Socket } from "node:net";

/** What every HTTP/2 connection starts with (RFC 9113, section 3.4). */
const HTTP2_PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "latin1");

export type WireProtocol = "h2" | "http/1.1";

/**
 * Reads the first bytes of a cleartext connection to tell HTTP/2 with prior
 * knowledge from HTTP/1.1, then puts them back so the server that takes the
 * socket sees the stream untouched.
 *
 * It reads in paused mode (`'readable'` + `read()`): switching the socket to
 * flowing mode here would make it emit data before its new owner listens.
 * A first read can be shorter than the preface, so a partial match waits for
 * more bytes.
 *
 * `decide` is called at most once; `onTimeout` when nothing conclusive
 * arrives in time (a connection that never speaks must not be held forever).
 */
export function sniffProtocol(
  socket: Socket,
  timeoutMs: number,
  decide: (protocol: WireProtocol) => void,
  onTimeout: () => void,
): void {
  let seen: Buffer = Buffer.alloc(0);

  const finish = (protocol: WireProtocol): void => {
    cleanup();
    if (seen.length > 0) socket.unshift(seen);
    decide(protocol);
  };
  const onReadable = (): void => {
    for (let chunk: Buffer | null = socket.read(); chunk !== null; chunk = socket.read()) {
      seen = seen.length === 0 ? chunk : Buffer.concat([seen, chunk]);
      const n = Math.min(seen.length, HTTP2_PREFACE.length);
      if (seen.compare(HTTP2_PREFACE, 0, n, 0, n) !== 0) {
        finish("http/1.1");
        return;
      }
      if (n === HTTP2_PREFACE.length) {
        finish("h2");
        return;
      }
    }
  };
  const onGone = (): void => cleanup();
  const timer = setTimeout(() => {
    cleanup();
    onTimeout();
  }, timeoutMs);
  timer.unref();

  function cleanup(): void {
    clearTimeout(timer);
    socket.removeListener("readable", onReadable);
    socket.removeListener("close", onGone);
  }

  socket.on("readable", onReadable);
  socket.once("close", onGone);
}
