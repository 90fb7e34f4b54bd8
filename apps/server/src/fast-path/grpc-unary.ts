import type { Http2ServerRequest, Http2ServerResponse } from "node:http2";
import { type DescMessage, fromBinary, toBinary } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { parseTimeout, setTrailerStatus } from "@connectrpc/connect/protocol-grpc";
import type { InflightCalls } from "./call-context.js";
import {
  checkWriteSize,
  type FastPathOptions,
  MAX_TIMEOUT_MS,
  outgoing,
  readBody,
  routesByPath,
  runUnaryCall,
  type UnaryRoute,
} from "./unary-call.js";

const GRPC_CONTENT_TYPE = /^application\/grpc(\+proto)?$/;

/**
 * Unary gRPC calls over HTTP/2, answered straight on the HTTP/2 stream.
 *
 * connect-node runs every call, unary or not, through its streaming
 * pipeline (async iterables, envelope transforms, several Headers and abort
 * controllers), which costs ten times what the protobuf work does. A unary
 * gRPC call is one frame in and one frame out, so this path reads the frame
 * (through Node's HTTP/2 compatibility API, which owns the stream's trailers),
 * calls the same service implementation with a lean HandlerContext
 * (call-context.ts), and writes the frame and trailers.
 *
 * It takes only the common case (identity encoding); everything else —
 * compression, streaming methods, other protocols — is left to connect-node
 * (`handle` returns false), so behaviour stays connect's wherever this path
 * does not go.
 */
export function createGrpcUnaryFastPath(
  routes: readonly UnaryRoute[],
  options: FastPathOptions,
  inflight: InflightCalls,
) {
  const byPath = routesByPath(routes);

  /** Takes the request if it is a call this path serves; returns whether it did. */
  function handle(req: Http2ServerRequest, res: Http2ServerResponse): boolean {
    if (req.method !== "POST") return false;
    const route = byPath.get(req.url);
    if (!route) return false;
    const contentType = req.headers["content-type"];
    if (!contentType || !GRPC_CONTENT_TYPE.test(contentType)) return false;
    const encoding = req.headers["grpc-encoding"];
    if (encoding !== undefined && encoding !== "identity") return false;
    readBody(req, options.readMaxBytes + 5, (body) => {
      if (body instanceof ConnectError) {
        respondError(res, contentType, body, undefined, new Headers());
        return;
      }
      const request = parseRequest(body, route.method.input);
      const rawTimeout = req.headers["grpc-timeout"];
      const timeout = parseTimeout(typeof rawTimeout === "string" ? rawTimeout : null, MAX_TIMEOUT_MS);
      const invalid = request instanceof ConnectError ? request : timeout.error;
      if (invalid) {
        respondError(res, contentType, invalid, undefined, new Headers());
        return;
      }
      const call = { req, res, route, protocolName: "grpc", request, timeoutMs: timeout.timeoutMs, inflight };
      void runUnaryCall(
        call,
        (message, context) => {
          const bytes = toBinary(route.method.output, message);
          checkWriteSize(bytes, options.writeMaxBytes);
          const frame = Buffer.allocUnsafe(5 + bytes.length);
          frame[0] = 0;
          frame.writeUInt32BE(bytes.length, 1);
          frame.set(bytes, 5);
          const trailer = outgoing(context.responseTrailerIfSet, { "grpc-status": "0" });
          send(res, contentType, context.responseHeaderIfSet, trailer, frame);
        },
        (error, context) => respondError(res, contentType, error, context.responseHeaderIfSet, context.responseTrailer),
      );
    });
    return true;
  }

  return { handle };
}

function parseRequest(body: Buffer, schema: DescMessage): unknown {
  if (body.length < 5) return new ConnectError("protocol error: incomplete envelope", Code.InvalidArgument);
  const length = body.readUInt32BE(1);
  if (body.length < 5 + length) return new ConnectError("protocol error: incomplete envelope", Code.InvalidArgument);
  if (body.length > 5 + length) {
    return new ConnectError("protocol error: received extra message for unary method", Code.InvalidArgument);
  }
  if ((body[0] ?? 0) & 0b01) {
    return new ConnectError("protocol error: received compressed message without compression", Code.Internal);
  }
  try {
    return fromBinary(schema, body.subarray(5));
  } catch (e) {
    return new ConnectError(`parse binary: ${e instanceof Error ? e.message : String(e)}`, Code.Internal);
  }
}

function respondError(
  res: Http2ServerResponse,
  contentType: string,
  error: ConnectError,
  header: Headers | undefined,
  trailer: Headers,
): void {
  // Also copies the error's metadata into the trailer.
  setTrailerStatus(trailer, error);
  send(res, contentType, header, outgoing(trailer, {}));
}

/** Headers, an optional frame, then the trailers that carry the status. */
function send(
  res: Http2ServerResponse,
  contentType: string,
  header: Headers | undefined,
  trailer: Record<string, string>,
  frame?: Buffer,
): void {
  if (res.headersSent || res.closed || res.stream.destroyed) return;
  res.writeHead(200, outgoing(header, { "content-type": contentType }));
  res.addTrailers(trailer);
  if (frame) res.end(frame);
  else res.end();
}
