import type { CallEngine, ProtocolHandler } from "../call/engine.js";
import { plainPostRoute } from "../call/routes.js";
import { serveServerStream } from "../call/server-stream.js";
import { corsHeaders } from "../wire/cors.js";
import { GRPC_CONTENT_TYPE } from "../wire/envelopes.js";
import { RawHttp2Response } from "../wire/raw-http2-exchange.js";
import { GRPC_STREAM } from "./server-stream.js";
import { createGrpcUnary } from "./unary.js";

/**
 * gRPC calls (`application/grpc`, `+proto`) with an uncompressed request:
 * unary calls over HTTP/2, and server streams on the HTTP/2 streams the
 * one-port server hands over before Node wraps them (raw-http2-exchange.ts),
 * the only place this package sends a stream's trailers itself. gRPC needs
 * HTTP/2 trailers, so over HTTP/1.1 nothing is taken.
 */
export function createGrpcHandler(engine: CallEngine): ProtocolHandler {
  const { limits } = engine;
  const unary = createGrpcUnary(engine);
  return {
    handle(req, res) {
      const route = plainPostRoute(engine.unary, req, "grpc-encoding");
      if (route) {
        const contentType = req.headers["content-type"] ?? "";
        if (req.httpVersionMajor !== 2 || !GRPC_CONTENT_TYPE.test(contentType) || !limits.protocols.grpc) return false;
        const cors = corsHeaders(req.headers, limits.cors);
        if (!cors) return false;
        unary(req, res, route, cors, contentType, false, false);
        return true;
      }
      if (!(res instanceof RawHttp2Response) || !GRPC_CONTENT_TYPE.test(req.headers["content-type"] ?? ""))
        return false;
      if (!limits.protocols.grpc) return false;
      const stream = plainPostRoute(engine.serverStreaming, req, "grpc-encoding");
      if (!stream) return false;
      const cors = corsHeaders(req.headers, limits.cors);
      if (!cors) return false;
      serveServerStream(engine, req, res, stream, GRPC_STREAM, cors);
      return true;
    },
  };
}
