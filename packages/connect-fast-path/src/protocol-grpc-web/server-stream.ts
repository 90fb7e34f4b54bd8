import type { StreamProtocol, StreamSink } from "../call/server-stream.js";
import { setErrorTrailer, trailerFrame } from "../wire/envelopes.js";

/** gRPC-Web server streams: gRPC's framing, with the status in a last frame of the body. */
export const GRPC_WEB_STREAM: StreamProtocol = {
  name: "grpc-web",
  responseType: "application/grpc-web+proto",
  encodingHeader: "grpc-encoding",
  acceptEncodingHeader: "grpc-accept-encoding",
  timeoutHeader: "grpc-timeout",
  json: false,
  endFlag: 0x80,
  endStream(response, trailer, error, _context, framing) {
    if (error) setErrorTrailer(trailer, error, true);
    else trailer.set("grpc-status", "0");
    (response as StreamSink).end(trailerFrame(trailer, framing.encoding, framing.options.compressMinBytes));
  },
};
