import type { IncomingMessage, ServerResponse } from "node:http";
import type { Http2ServerRequest, Http2ServerResponse } from "node:http2";
import { LeanHeaders } from "./lean-headers.js";
import { type RawHttp2Request, RawHttp2Response } from "./raw-http2-exchange.js";

/** A request or response of either HTTP version: Node's (the compatibility API for HTTP/2), or an HTTP/2 stream's own. */
export type FastRequest = IncomingMessage | Http2ServerRequest | RawHttp2Request;
export type FastResponse = ServerResponse | Http2ServerResponse | RawHttp2Response;

// One address per connection, worked out on its first call that asks.
const peers = new WeakMap<object, string>();

/**
 * The client's address, `host:port`. For HTTP/2 it is read from the
 * session: a request's `socket` there is a Proxy Node makes per stream, and
 * reading through it cost more per call than the whole log line's fields.
 */
export function peerOf(req: FastRequest): string {
  // Node's compatibility API loses the session when the stream closes; a
  // RawHttp2Request keeps it.
  const session = "session" in req ? req.session : "stream" in req ? req.stream.session : undefined;
  const connection = session ?? req.socket;
  // A stream whose session is already gone: nothing to cache it by.
  if (!connection) return "unknown";
  let peer = peers.get(connection);
  if (peer === undefined) {
    const socket = session ? session.socket : req.socket;
    // A connection already closed may have forgotten the address.
    if (socket?.remoteAddress === undefined) return "unknown";
    peer = `${socket.remoteAddress}:${socket.remotePort}`;
    peers.set(connection, peer);
  }
  return peer;
}

/** Adds the entries of a Headers (which win) to a Node header object made for this response, and returns it. */
export function outgoing(headers: Headers | undefined, base: Record<string, string>): Record<string, string> {
  copyHeadersInto(headers, base);
  return base;
}

/** Copies a Headers' entries into a Node header object, names prefixed with `prefix`; unsorted for our own LeanHeaders (see `copyInto`). */
export function copyHeadersInto(headers: Headers | undefined, target: Record<string, string>, prefix = ""): void {
  if (!headers) return;
  if (headers instanceof LeanHeaders) headers.copyInto(target, prefix);
  else for (const [key, value] of headers) target[prefix + key] = value;
}

/**
 * Drops a call that can no longer be answered, because something threw
 * while it was being answered: the client sees its stream reset (or, over
 * HTTP/1.1, its connection closed) rather than the server crashing on an
 * unhandled rejection.
 */
export function abandon(res: FastResponse): void {
  if (res instanceof RawHttp2Response) res.reset();
  else res.destroy();
}
