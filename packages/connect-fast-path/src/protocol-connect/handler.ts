import type { CallEngine, ProtocolHandler } from "../call/engine.js";
import { plainPostRoute } from "../call/routes.js";
import { serveServerStream } from "../call/server-stream.js";
import { corsHeaders } from "../wire/cors.js";
import { connectStreamProtocol } from "./server-stream.js";
import { createConnectUnary } from "./unary.js";

/**
 * Connect calls with an uncompressed request, over HTTP/1.1 or HTTP/2:
 * unary POST (JSON or binary) and GET (for methods without side effects),
 * and server streams (`application/connect+proto` or `+json`). A
 * `connect-protocol-version` other than 1 is handed on.
 */
export function createConnectHandler(engine: CallEngine): ProtocolHandler {
  const { limits } = engine;
  const unary = createConnectUnary(engine);
  return {
    handle(req, res) {
      if (!limits.protocols.connect) return false;
      if (req.method === "GET") return unary.handleGet(req, res);
      const route = plainPostRoute(engine.unary, req, "content-encoding");
      if (route) return unary.handlePost(req, res, route);
      const protocol = connectStreamProtocol(req, req.headers["content-type"] ?? "");
      if (!protocol) return false;
      const stream = plainPostRoute(engine.serverStreaming, req, protocol.encodingHeader);
      if (!stream) return false;
      const cors = corsHeaders(req.headers, limits.cors);
      if (!cors) return false;
      serveServerStream(engine, req, res, stream, protocol, cors);
      return true;
    },
  };
}
