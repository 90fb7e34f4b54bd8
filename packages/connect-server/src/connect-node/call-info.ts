import type { IncomingMessage } from "node:http";
import { constants, type Http2ServerRequest } from "node:http2";
import { Code, ConnectError } from "@connectrpc/connect";
import type { CallInfo } from "@greeter/connect-fast-path";

const clientCancelled = new ConnectError("the client cancelled the call", Code.Canceled);
const connectionClosed = new ConnectError("the server closed the connection", Code.Unavailable);

/**
 * The CallInfo of a call connect-node answers: the peer, and whether the
 * request was aborted. Node sets the request's `aborted` flag as soon as
 * the stream is reset or its connection cut, before connect-node's signal
 * fires (on the request's 'close'), so a handler whose read failed on the
 * reset is already known to have been cut when the interceptors record it.
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
