import type { StreamProtocol, StreamSink } from "../call/server-stream.js";
import { endStreamFrame } from "../wire/envelopes.js";
import type { FastRequest } from "../wire/exchange.js";
import { connectVersionRequired } from "./protocol-version.js";

/** Connect server streams of binary messages: the error and trailers as JSON in an end-of-stream frame. */
const CONNECT_STREAM: StreamProtocol = {
  name: "connect",
  responseType: "application/connect+proto",
  endFlag: 0x02,
  encodingHeader: "connect-content-encoding",
  acceptEncodingHeader: "connect-accept-encoding",
  timeoutHeader: "connect-timeout-ms",
  json: false,
  refuseHeaders(req, limits) {
    return limits.requireConnectProtocolHeader && !req.headers["connect-protocol-version"]
      ? connectVersionRequired("header")
      : undefined;
  },
  endStream(response, trailer, error, _context, framing) {
    const { options, encoding } = framing;
    (response as StreamSink).end(
      endStreamFrame(trailer, error, options.jsonOptions, encoding, options.compressMinBytes),
    );
  },
};
/** The same with JSON messages (`application/connect+json`). */
const CONNECT_JSON_STREAM: StreamProtocol = { ...CONNECT_STREAM, json: true, responseType: "application/connect+json" };

// connect-es's own test: a charset only after json (one optional space), any case.
const CONNECT_STREAM_CONTENT_TYPE = /^application\/connect\+(?:(json)(?:; ?charset=utf-?8)?|proto)$/i;

/**
 * The Connect stream protocol a request's content type names, or undefined
 * if it names none, or the request asks for a protocol version other than
 * 1 (handed on, for connect-node to answer).
 */
export function connectStreamProtocol(req: FastRequest, contentType: string): StreamProtocol | undefined {
  const connect = CONNECT_STREAM_CONTENT_TYPE.exec(contentType);
  if (!connect) return undefined;
  const version = req.headers["connect-protocol-version"];
  if (version !== undefined && version !== "1") return undefined;
  return connect[1] === undefined ? CONNECT_STREAM : CONNECT_JSON_STREAM;
}
