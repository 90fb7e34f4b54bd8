import type { IncomingMessage, ServerResponse } from "node:http";
import type { Http2ServerRequest, Http2ServerResponse } from "node:http2";
import { type CorsPolicy, corsHeaders } from "../shared/cors.js";
import { isBase64, notBase64 } from "./base64-message.js";
import { respondError } from "./unary.js";

/** A check of Connect GET queries that connect-node would answer badly. */
export interface ConnectGetCheck {
  /** Answers a GET to one of `paths` whose base64 message is not base64, and returns true; false for anything else. */
  handle(req: IncomingMessage | Http2ServerRequest, res: ServerResponse | Http2ServerResponse): boolean;
}

/**
 * connect-node decodes a GET's `base64=1` message without checking it, so
 * text that is not base64 fails outside its error handling: INTERNAL, HTTP
 * 500, "internal error". This answers those GETs itself with
 * INVALID_ARGUMENT, as the fast path does, and hands every other request on.
 */
export function createConnectGetCheck(paths: ReadonlySet<string>, cors: CorsPolicy): ConnectGetCheck {
  return {
    handle(req, res) {
      if (req.method !== "GET") return false;
      const url = req.url ?? "";
      const queryAt = url.indexOf("?");
      if (queryAt < 0 || !paths.has(url.slice(0, queryAt))) return false;
      const query = new URLSearchParams(url.slice(queryAt + 1));
      if (query.get("base64") !== "1" || isBase64(query.get("message") ?? "")) return false;
      const allowed = corsHeaders(req.headers, cors);
      if (!allowed) return false;
      respondError(res, allowed, notBase64(), undefined, undefined);
      return true;
    },
  };
}
