import { isUtf8 } from "node:buffer";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Http2ServerRequest, Http2ServerResponse } from "node:http2";
import { Code, ConnectError } from "@connectrpc/connect";
import { type CorsPolicy, corsHeaders } from "../wire/cors.js";
import { isBase64, notBase64, rawQueryParam } from "./base64-message.js";
import { respondError } from "./unary.js";

/** Checks of Connect unary requests that connect-node lets through or answers badly. */
export interface ConnectRequestCheck {
  /** Answers a request to one of `paths` that fails a check, and returns true; false for anything else. */
  handle(req: IncomingMessage | Http2ServerRequest, res: ServerResponse | Http2ServerResponse): boolean;
}

const UNARY_TYPE = /^application\/(json|proto)(;\s*charset=utf-?8)?$/i;

/**
 * Connect unary requests that connect-node gets wrong, answered here with
 * INVALID_ARGUMENT as connect-go answers them:
 * - a GET whose `base64=1` message is not base64, which connect-node
 *   decodes outside its error handling (INTERNAL, HTTP 500, "internal error");
 * - a GET whose JSON message is not UTF-8, which connect-node reads
 *   through URLSearchParams, patching those bytes with U+FFFD;
 * - a protocol version other than 1 (the `connect-protocol-version` header
 *   of a POST, the `connect` query parameter of a GET), which connect-node
 *   ignores and answers as if it were 1;
 * and a method the route does not take gets its 405 with the `Allow`
 * header connect-node leaves out.
 * Everything else is handed on.
 */
export function createConnectRequestCheck(
  methodsByPath: ReadonlyMap<string, readonly string[]>,
  cors: CorsPolicy,
): ConnectRequestCheck {
  return {
    handle(req, res) {
      const url = req.url ?? "";
      const queryAt = url.indexOf("?");
      const allowedMethods = methodsByPath.get(queryAt < 0 ? url : url.slice(0, queryAt));
      if (!allowedMethods) return false;
      const method = req.method ?? "";
      // A method the route does not take: connect-node's 405 names none,
      // which RFC 9110 requires. OPTIONS stays with the application's CORS.
      if (method !== "OPTIONS" && !allowedMethods.includes(method)) {
        const allowed = corsHeaders(req.headers, cors);
        if (!allowed) return false;
        const out = res as ServerResponse;
        out.writeHead(405, { ...allowed, allow: allowedMethods.join(", "), "content-length": "0" });
        out.end();
        return true;
      }
      const error = method === "GET" ? getError(url.slice(queryAt + 1)) : postError(req);
      if (!error) return false;
      const allowed = corsHeaders(req.headers, cors);
      if (!allowed) return false;
      respondError(res, allowed, error, undefined, undefined);
      return true;
    },
  };
}

function getError(search: string): ConnectError | undefined {
  if (search === "") return undefined;
  const query = new URLSearchParams(search);
  const connect = query.get("connect");
  if (connect !== null && connect !== "v1") return badVersion("the connect query parameter", "v1", connect);
  const base64 = query.get("base64") === "1";
  const message = query.get("message") ?? "";
  if (base64 && !isBase64(message)) return notBase64();
  // connect-node reads the message through URLSearchParams, which patches
  // bytes that are not UTF-8 with U+FFFD: refuse them, as a POST's are.
  const compression = query.get("compression");
  if (query.get("encoding") === "json" && (compression === null || compression === "identity")) {
    const bytes = base64 ? Buffer.from(message, "base64url") : rawQueryParam(search, "message");
    if (bytes && !isUtf8(bytes)) return new ConnectError("the JSON message is not valid UTF-8", Code.InvalidArgument);
  }
  return undefined;
}

function postError(req: IncomingMessage | Http2ServerRequest): ConnectError | undefined {
  if (req.method !== "POST" || !UNARY_TYPE.test(req.headers["content-type"] ?? "")) return undefined;
  const version = req.headers["connect-protocol-version"];
  if (version === undefined || version === "1") return undefined;
  return badVersion("connect-protocol-version", "1", String(version));
}

const badVersion = (what: string, wanted: string, got: string): ConnectError =>
  new ConnectError(
    `${what} must be ${wanted}, the Connect protocol version this server speaks: got ${JSON.stringify(got)}`,
    Code.InvalidArgument,
  );
