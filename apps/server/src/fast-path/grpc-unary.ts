import type { Http2ServerRequest, Http2ServerResponse } from "node:http2";
import { create, type DescMessage, type DescMethodUnary, fromBinary, isMessage, toBinary } from "@bufbuild/protobuf";
import { Code, ConnectError, type HandlerContext } from "@connectrpc/connect";
import { parseTimeout, setTrailerStatus } from "@connectrpc/connect/protocol-grpc";
import { createCallContext, InflightCalls } from "./call-context.js";

/** One unary method and the function that implements it. */
export interface UnaryRoute {
  method: DescMethodUnary;
  impl: (request: never, context: HandlerContext) => unknown;
}

export interface GrpcUnaryFastPathOptions {
  /** Largest request message, as for the Connect router. */
  readMaxBytes: number;
  /** Largest response message. */
  writeMaxBytes: number;
  /** Aborts every running call when the server shuts down. */
  shutdownSignal: AbortSignal;
}

const GRPC_CONTENT_TYPE = /^application\/grpc(\+proto)?$/;
const MAX_TIMEOUT_MS = 2 ** 31 - 1;

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
export function createGrpcUnaryFastPath(routes: readonly UnaryRoute[], options: GrpcUnaryFastPathOptions) {
  const inflight = new InflightCalls(options.shutdownSignal);
  const byPath = new Map(routes.map((r) => [`/${r.method.parent.typeName}/${r.method.name}`, r]));

  /** Takes the request if it is a call this path serves; returns whether it did. */
  function handle(req: Http2ServerRequest, res: Http2ServerResponse): boolean {
    if (req.method !== "POST") return false;
    const route = byPath.get(req.url);
    if (!route) return false;
    const contentType = req.headers["content-type"];
    if (!contentType || !GRPC_CONTENT_TYPE.test(contentType)) return false;
    const encoding = req.headers["grpc-encoding"];
    if (encoding !== undefined && encoding !== "identity") return false;
    serve(req, res, route, contentType);
    return true;
  }

  function serve(req: Http2ServerRequest, res: Http2ServerResponse, route: UnaryRoute, contentType: string): void {
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    const fail = (error: ConnectError): void => {
      failed = true;
      respondError(res, contentType, error, undefined, new Headers());
    };
    req.on("data", (chunk: Buffer) => {
      if (failed) return;
      size += chunk.length;
      if (size > options.readMaxBytes + 5) {
        fail(
          new ConnectError(
            `message size is larger than configured readMaxBytes ${options.readMaxBytes}`,
            Code.ResourceExhausted,
          ),
        );
        return;
      }
      chunks.push(chunk);
    });
    req.once("end", () => {
      if (failed) return;
      const body = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks);
      const request = parseRequest(body, route.method.input);
      if (request instanceof ConnectError) {
        fail(request);
        return;
      }
      const rawTimeout = req.headers["grpc-timeout"];
      const timeout = parseTimeout(typeof rawTimeout === "string" ? rawTimeout : null, MAX_TIMEOUT_MS);
      if (timeout.error) {
        fail(timeout.error);
        return;
      }
      void invoke(req, res, route, contentType, request, timeout.timeoutMs);
    });
  }

  async function invoke(
    req: Http2ServerRequest,
    res: Http2ServerResponse,
    route: UnaryRoute,
    contentType: string,
    request: unknown,
    timeoutMs: number | undefined,
  ): Promise<void> {
    const context = createCallContext({
      method: route.method,
      protocolName: "grpc",
      requestMethod: "POST",
      url: req.url,
      timeoutMs,
      requestHeaders: req.headers,
      inflight,
    });
    // A client that resets the stream cancels the call.
    const onClose = (): void => context.abort(new ConnectError("the client cancelled the call", Code.Canceled));
    res.once("close", onClose);
    try {
      const result = await untilAborted(Promise.resolve(route.impl(request as never, context)), context.signal);
      const message = isMessage(result, route.method.output)
        ? result
        : create(route.method.output, result as Parameters<typeof create>[1]);
      const bytes = toBinary(route.method.output, message);
      if (bytes.length > options.writeMaxBytes) {
        throw new ConnectError(
          `message size ${bytes.length} is larger than configured writeMaxBytes ${options.writeMaxBytes}`,
          Code.ResourceExhausted,
        );
      }
      const frame = Buffer.allocUnsafe(5 + bytes.length);
      frame[0] = 0;
      frame.writeUInt32BE(bytes.length, 1);
      frame.set(bytes, 5);
      send(
        res,
        contentType,
        context.responseHeaderIfSet,
        outgoing(context.responseTrailerIfSet, { "grpc-status": "0" }),
        frame,
      );
    } catch (e) {
      // As connect-node does: anything but a ConnectError is a bug of ours,
      // and its message stays in the server.
      const error =
        e instanceof ConnectError ? e : new ConnectError("internal error", Code.Internal, undefined, undefined, e);
      respondError(res, contentType, error, context.responseHeaderIfSet, context.responseTrailer);
    } finally {
      res.removeListener("close", onClose);
      context.finish();
    }
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

/** The handler's result, or the call's abort reason (deadline, cancel, shutdown) if that comes first. */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(ConnectError.from(signal.reason));
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(ConnectError.from(signal.reason));
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(error);
      },
    );
  });
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

function outgoing(headers: Headers | undefined, base: Record<string, string>): Record<string, string> {
  if (!headers) return base;
  const out = { ...base };
  for (const [key, value] of headers) out[key] = value;
  return out;
}
