import type { CallEngine, ProtocolHandler } from "../call/engine.js";
import { plainPostRoute } from "../call/routes.js";
import { serveServerStream } from "../call/server-stream.js";
import { createGrpcUnary } from "../protocol-grpc/unary.js";
import { corsHeaders } from "../wire/cors.js";
import { GRPC_WEB_CONTENT_TYPE } from "../wire/envelopes.js";
import { GRPC_WEB_STREAM } from "./server-stream.js";
import { GRPC_WEB_TEXT } from "./text-mode.js";

/**
 * gRPC-Web calls with an uncompressed request, over HTTP/1.1 or HTTP/2:
 * unary calls in binary and in text mode (base64), which share gRPC's
 * unary code (protocol-grpc/unary.ts), and binary server streams. A
 * text-mode stream is left to the text-mode translation around
 * connect-node (text-mode.ts).
 */
export function createGrpcWebHandler(engine: CallEngine): ProtocolHandler {
  const { limits } = engine;
  const unary = createGrpcUnary(engine);
  return {
    handle(req, res) {
      if (!limits.protocols.grpcWeb) return false;
      const contentType = req.headers["content-type"] ?? "";
      const text = GRPC_WEB_TEXT.test(contentType);
      if (!text && !GRPC_WEB_CONTENT_TYPE.test(contentType)) return false;
      const route = plainPostRoute(engine.unary, req, "grpc-encoding");
      const stream = route || text ? undefined : plainPostRoute(engine.serverStreaming, req, "grpc-encoding");
      if (!route && !stream) return false;
      const cors = corsHeaders(req.headers, limits.cors);
      if (!cors) return false;
      if (route) unary(req, res, route, cors, contentType, true, text);
      else if (stream) serveServerStream(engine, req, res, stream, GRPC_WEB_STREAM, cors);
      return true;
    },
  };
}
