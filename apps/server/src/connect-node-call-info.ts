import type { IncomingMessage } from "node:http";
import { constants, type Http2ServerRequest } from "node:http2";
import { Code, ConnectError } from "@connectrpc/connect";
import type { CallInfo } from "@greeter/interceptors/server";

const clientCancelled = new ConnectError("the client cancelled the call", Code.Canceled);
const connectionClosed = new ConnectError("the server closed the connection", Code.Unavailable);

/**
 * The CallInfo of a call connect-node answers: the peer, and whether the
 * request was aborted. Node ends an HTTP/2 request body on the client's
 * RST_STREAM before the stream closes and connect-node aborts the signal,
 * so an upload's handler can finish with the chunks it got, as if the
 * client had ended its stream; the request's `aborted` flag is set first.
 * A stream closed with CANCEL is the client's doing (its RST_STREAM, or
 * Node closing the streams of a connection the client cut); with another
 * code, the server closed the connection (a reset flood, a drain).
 */
export function connectNodeCallInfo(raw: IncomingMessage | Http2ServerRequest): CallInfo {
  return {
    peer: `${raw.socket.remoteAddress}:${raw.socket.remotePort}`,
    abortReason() {
      if (!raw.aborted) return undefined;
      if (!("stream" in raw)) return clientCancelled;
      const { rstCode } = raw.stream;
      return rstCode === undefined || rstCode === constants.NGHTTP2_CANCEL ? clientCancelled : connectionClosed;
    },
  };
}
