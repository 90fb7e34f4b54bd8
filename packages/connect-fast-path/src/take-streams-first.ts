import type { Http2SecureServer, Http2Server, IncomingHttpHeaders, ServerHttp2Stream } from "node:http2";
import type { FastPath } from "./fast-path.js";

type StreamListener = (
  stream: ServerHttp2Stream,
  headers: IncomingHttpHeaders,
  flags: number,
  rawHeaders: string[],
) => void;

/**
 * Offers each HTTP/2 stream to `takeStream` before Node's compatibility
 * API wraps it, and gives the compatibility API (and so the server's
 * request handler) only the streams it leaves. Node serves the
 * compatibility API through a listener of its own on `stream`, which must
 * be the only one: it is moved behind `takeStream` here. A plain
 * `node:http2` server needs this for the fast path to answer gRPC server
 * streams, which it answers on the raw stream only. (`@greeter/one-port`
 * does the same for its own servers: give it `takeStream` instead.)
 */
export function takeStreamsFirst(server: Http2Server | Http2SecureServer, takeStream: FastPath["takeStream"]): void {
  const [compatibility, ...others] = server.listeners("stream") as StreamListener[];
  if (!compatibility || others.length > 0) {
    throw new Error("takeStreamsFirst expects the server's compatibility listener alone on 'stream'");
  }
  server.removeListener("stream", compatibility);
  server.on(
    "stream",
    (stream: ServerHttp2Stream, headers: IncomingHttpHeaders, flags: number, rawHeaders: string[]) => {
      if (!takeStream(stream, headers)) compatibility.call(server, stream, headers, flags, rawHeaders);
    },
  );
}
