import { ServerResponse } from "node:http";
import type { FastResponse } from "./exchange.js";

// Node's HTTP/1.1 response hands its head and a Buffer body to the socket as
// two chunks, which go out through writev; a latin1 string body is appended
// to the head and goes out in one plain write. Up to this size the copy into
// a string costs less than the writev; larger bodies are sent as they are.
const ONE_WRITE_MAX_BYTES = 16 * 1024;

/** Ends a response whose head is set with its whole body, in one socket write on HTTP/1.1. */
export function endWithBody(res: FastResponse, body: Uint8Array): void {
  if (res instanceof ServerResponse && body.byteLength <= ONE_WRITE_MAX_BYTES) {
    res.end(Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString("latin1"), "latin1");
    return;
  }
  (res as ServerResponse).end(body);
}
