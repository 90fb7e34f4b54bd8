import type { IncomingMessage, ServerResponse } from "node:http";
import type { Http2ServerRequest, Http2ServerResponse } from "node:http2";
import { type ConnectRouter, createContextValues } from "@connectrpc/connect";
import { clampLongTimeouts } from "../call/timeouts.js";
import type { CallInfoKey } from "../call-info.js";
import type { UniversalHandler } from "../connect-internals.js";
import { type CorsPolicy, corsHeaders } from "../wire/cors.js";
import { LeanHeaders } from "../wire/lean-headers.js";
import { takeTurns } from "../wire/take-turns.js";
import { decodeBase64Stream } from "./base64-frames.js";

/** `application/grpc-web-text`, with or without `+proto`: the base64 mode of Google's grpc-web runtime. */
export const GRPC_WEB_TEXT = /^application\/grpc-web-text(\+proto)?$/;

/**
 * gRPC-Web's text mode, for every method kind the protocol carries, by
 * translation around connect-node's own gRPC-Web handler (which answers 415
 * to it): the request body is base64-decoded on the way in and presented as
 * `application/grpc-web+proto`; each chunk of the answer — every message
 * frame as the handler produces it, then the trailer frame — is base64'd
 * and written at once, so a server stream reaches the client message by
 * message. Errors, metadata, deadlines and the interceptors are the binary
 * mode's, because the handler is. (Unary calls usually take the fast path,
 * which speaks text mode itself.)
 */
export function createGrpcWebTextHandler(
  router: ConnectRouter,
  cors: CorsPolicy,
  callInfoKey: CallInfoKey | undefined,
) {
  // A router with gRPC-Web switched off has no text mode either: such calls are handed on.
  const byPath = new Map<string, UniversalHandler>(
    router.handlers.filter((h) => h.protocolNames.includes("grpc-web")).map((h) => [h.requestPath, h]),
  );

  /** Takes the request if it is a text-mode call of a known method; returns whether it did. */
  function handle(req: IncomingMessage | Http2ServerRequest, res: ServerResponse | Http2ServerResponse): boolean {
    const contentType = req.headers["content-type"];
    if (contentType === undefined || !GRPC_WEB_TEXT.test(contentType) || req.method !== "POST") return false;
    const handler = byPath.get((req.url ?? "").split("?")[0] ?? "");
    const allowed = corsHeaders(req.headers, cors);
    if (!handler || !allowed) return false;
    void serve(handler, req, res as ServerResponse, allowed, callInfoKey);
    return true;
  }

  return { handle };
}

async function serve(
  handler: UniversalHandler,
  req: IncomingMessage | Http2ServerRequest,
  res: ServerResponse,
  cors: Record<string, string>,
  callInfoKey: CallInfoKey | undefined,
): Promise<void> {
  const abort = new AbortController();
  res.once("close", () => abort.abort());
  takeTurns(res);
  // connect-node's handler runs the call: a long deadline must reach it clamped.
  clampLongTimeouts(req.headers);
  const header = new LeanHeaders(req.headers);
  header.set("content-type", "application/grpc-web+proto");
  try {
    const answer = await handler({
      httpVersion: req.httpVersion,
      method: "POST",
      url: `http://${req.headers.host ?? req.headers[":authority"] ?? "localhost"}${req.url ?? ""}`,
      header,
      body: decodeBase64Stream(req as AsyncIterable<Buffer>),
      signal: abort.signal,
      contextValues: callInfoKey
        ? createContextValues().set(callInfoKey, {
            protocol: "grpc-web",
            peer: `${req.socket?.remoteAddress}:${req.socket?.remotePort}`,
          })
        : createContextValues(),
    });
    const head: Record<string, string> = { ...cors };
    answer.header?.forEach((value, key) => {
      if (key !== "content-length") head[key] = value;
    });
    if (head["content-type"]?.startsWith("application/grpc-web")) {
      head["content-type"] = "application/grpc-web-text+proto";
    }
    res.writeHead(answer.status, head);
    if (answer.body) {
      for await (const chunk of answer.body) {
        if (res.destroyed) break;
        // A client that stops reading stops the handler here: nothing more
        // is produced until what is written has gone out.
        if (!res.write(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength).toString("base64"))) {
          await drained(res);
        }
      }
    }
    if (!res.destroyed) res.end();
  } catch {
    // The handler turns every call failure into a status; what is left is
    // the client going away mid-stream.
    res.destroy();
  }
}

/** Resolves once `res` can take more, or has closed (the loop then sees it destroyed and stops). */
function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      res.off("drain", done);
      res.off("close", done);
      resolve();
    };
    res.on("drain", done);
    res.on("close", done);
  });
}
