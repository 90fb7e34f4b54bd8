import type { StreamProtocol, StreamSink } from "../call/server-stream.js";
import { setErrorTrailer } from "../wire/envelopes.js";
import { outgoing } from "../wire/exchange.js";
import { RawHttp2Response } from "../wire/raw-http2-exchange.js";

/**
 * gRPC server streams: binary messages, the status in HTTP/2 trailers, or
 * in the head alone (Trailers-Only) when nothing was sent before it.
 */
export const GRPC_STREAM: StreamProtocol = {
  name: "grpc",
  responseType: "application/grpc+proto",
  encodingHeader: "grpc-encoding",
  acceptEncodingHeader: "grpc-accept-encoding",
  timeoutHeader: "grpc-timeout",
  json: false,
  endStream(response, trailer, error, context) {
    if (error) setErrorTrailer(trailer, error, false);
    else trailer.set("grpc-status", "0");
    const res = response as StreamSink;
    res.addTrailers(outgoing(trailer, {}));
    if (!res.headersSent && !context.responseHeaderIfSet && response instanceof RawHttp2Response) {
      response.endTrailersOnly();
    } else res.end();
  },
};
