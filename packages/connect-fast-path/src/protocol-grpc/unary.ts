import type { ServerResponse } from "node:http";
import { type Message, toBinary } from "@bufbuild/protobuf";
import { ConnectError } from "@connectrpc/connect";
import type { CallContext } from "../call/context.js";
import type { CallEngine } from "../call/engine.js";
import { type CallLimits, checkWriteSize } from "../call/limits.js";
import { readBody, readEnvelopedBody } from "../call/read-body.js";
import { reportRefusal } from "../call/refusal.js";
import { askGate, GateContext, type GatedCall, reportGateRefusal } from "../call/request-gate.js";
import type { PreparedRoute } from "../call/routes.js";
import { runUnaryCall } from "../call/run-unary-call.js";
import { requestTimeout } from "../call/timeouts.js";
import { decodeBase64 } from "../protocol-grpc-web/base64-frames.js";
import { endWithBody } from "../wire/end-with-body.js";
import { envelope, parseSingleEnvelope, setErrorTrailer, trailerFrame } from "../wire/envelopes.js";
import { abandon, type FastRequest, type FastResponse, outgoing } from "../wire/exchange.js";
import { LeanHeaders } from "../wire/lean-headers.js";
import { RawHttp2Response } from "../wire/raw-http2-exchange.js";
import { compressIfWorth, type ResponseEncoding } from "../wire/response-compression.js";

/** How the call ends: HTTP/2 trailers (gRPC) or a trailer frame at the end of the body (gRPC-Web). */
interface Reply {
  res: FastResponse;
  contentType: string;
  web: boolean;
  /** gRPC-Web's text mode: the body, both ways, is base64. */
  text: boolean;
  /**
   * The compression negotiated from `grpc-accept-encoding`, if any: named in
   * the head whenever there is one, as connect-node names it, and used for
   * each envelope (the message, gRPC-Web's trailer frame) of at least
   * `compressMinBytes`.
   */
  encoding: ResponseEncoding | undefined;
  compressMinBytes: number;
  cors: Record<string, string>;
}

/**
 * Serves a unary call of the gRPC family that its protocol's handler has
 * taken (`protocol-grpc/handler.ts`, `protocol-grpc-web/handler.ts`): gRPC,
 * or gRPC-Web binary or text (`web`, `text`), with the CORS headers it gets.
 */
export type GrpcUnary = (
  req: FastRequest,
  res: FastResponse,
  route: PreparedRoute,
  cors: Record<string, string>,
  contentType: string,
  web: boolean,
  text: boolean,
) => void;

/**
 * Unary gRPC calls over HTTP/2, and gRPC-Web calls over HTTP/1.1 or
 * HTTP/2, answered without Fastify and connect-node's pipeline.
 *
 * connect-node runs every call, unary or not, through its streaming
 * pipeline (async iterables, envelope transforms, several Headers and abort
 * controllers), which costs ten times what the protobuf work does. A unary
 * gRPC call is one frame in and one frame out, so this path reads the frame
 * (from the HTTP/2 stream itself, raw-http2-exchange.ts, or through Node's
 * request and response objects), calls the same service implementation
 * with a lean HandlerContext (call/context.ts), and writes the frame and
 * trailers.
 *
 * Its handlers take only the common case (identity encoding); everything
 * else — compression, client and bidi streams, other protocols — is left to
 * connect-node, so behaviour stays connect's wherever this path does not go.
 */
export function createGrpcUnary(engine: CallEngine): GrpcUnary {
  const { limits: options, inflight } = engine;
  // gRPC-Web's trailer flag on a request envelope: connect-node skips that envelope.
  const webEnvelopes = { ...options, endFlag: 0x80 };

  return (req, res, route, cors, contentType, web, text) => {
    const reply: Reply = {
      res,
      contentType,
      web,
      text,
      cors,
      encoding: options.responseEncodings.choose(req.headers["grpc-accept-encoding"]),
      compressMinBytes: options.compressMinBytes,
    };
    // Text mode: base64 of at most two whole envelopes, which is all
    // parseSingleEnvelope needs to refuse a second message.
    const read = text
      ? (done: (body: Buffer | ConnectError) => void) =>
          readBody(req, Math.ceil((2 * (options.readMaxBytes + 5)) / 3) * 4, options.requestBudget, done)
      : (done: (body: Buffer | ConnectError) => void) =>
          readEnvelopedBody(req, options.readMaxBytes, options.requestBudget, done);

    const protocolName = web ? "grpc-web" : "grpc";
    const gate = options.requestGate;
    // What the gate made of the call's context, carried into the call.
    let gated: GatedCall | undefined;
    const serve = (received: Buffer | ConnectError): void => {
      const wireBytes = received instanceof ConnectError ? 0 : received.byteLength;
      let body: Buffer | ConnectError = received;
      if (text && !(received instanceof ConnectError)) {
        body = decodeBase64(received.toString("latin1"));
      }
      // connect-node raises a bad deadline before it reads a byte of the body: that error comes first.
      const timeout = requestTimeout(req.headers, "grpc-timeout", options.maxTimeoutMs, gated);
      if (timeout.error || body instanceof ConnectError) {
        refuse(options, req, reply, timeout.error ?? (body as ConnectError), gated);
        return;
      }
      const request = parseSingleEnvelope(body, route.method.input, web ? webEnvelopes : options);
      const invalid = request instanceof ConnectError ? request : undefined;
      if (invalid) {
        refuse(options, req, reply, invalid, gated);
        return;
      }
      const call = {
        req,
        res,
        route,
        protocolName,
        request,
        bytesIn: wireBytes,
        encode: (message: Message) => {
          const bytes = toBinary(route.method.output, message, options.binaryOptions);
          checkWriteSize(bytes, options.writeMaxBytes);
          const compressed = compressIfWorth(bytes, reply.encoding, options.compressMinBytes);
          return envelope(compressed.bytes, compressed.encoding !== undefined);
        },
        timeoutMs: timeout.timeoutMs,
        inflight,
        context: gated?.context,
      };
      runUnaryCall(
        call,
        (frame, context) => {
          const trailer = context.responseTrailerIfSet ?? new LeanHeaders();
          trailer.set("grpc-status", "0");
          send(reply, context.responseHeaderIfSet, trailer, frame);
        },
        (error, context) => respondError(reply, error, context.responseHeaderIfSet, context.responseTrailer),
      );
    };
    if (!gate) {
      read(serve);
      return;
    }
    const view = new GateContext(options, inflight, req, route.method, protocolName, "grpc-timeout");
    const verdict = askGate(gate, view);
    if (verdict === undefined) {
      gated = view.gated();
      read(serve);
    } else if (verdict instanceof ConnectError) refuseAtGate(options, req, reply, verdict, view.context());
    else {
      verdict
        .then((error) => {
          if (error) return refuseAtGate(options, req, reply, error, view.context());
          gated = view.gated();
          read(serve);
        })
        .catch(() => abandon(res));
    }
  };
}

/**
 * An error before the interceptors: reported, with what the report adds in
 * the head (gRPC-Web) or the trailers (gRPC: a Trailers-Only answer stays
 * one frame, which is its head).
 */
function refuse(options: CallLimits, req: FastRequest, reply: Reply, error: ConnectError, gated?: GatedCall): void {
  // Past a gate, the call has a context already: what the gate set in it goes out too.
  const context = gated?.context;
  context?.finish();
  const trailer = context?.responseTrailer ?? new LeanHeaders();
  if (reply.web) {
    const header = context?.responseHeader ?? new LeanHeaders();
    reportRefusal(options, req, "grpc-web", error, header);
    respondError(reply, error, header, trailer);
  } else {
    reportRefusal(options, req, "grpc", error, trailer);
    respondError(reply, error, context?.responseHeaderIfSet, trailer);
  }
}

/** A call the request gate refused: reported as an early refusal, and answered with what the gate set. */
function refuseAtGate(
  options: CallLimits,
  req: FastRequest,
  reply: Reply,
  error: ConnectError,
  context: CallContext,
): void {
  context.finish();
  reportGateRefusal(options, req, reply.web ? "grpc-web" : "grpc", error, context);
  respondError(reply, error, context.responseHeaderIfSet, context.responseTrailer);
}

function respondError(reply: Reply, error: ConnectError, header: Headers | undefined, trailer: Headers): void {
  send(reply, header, setErrorTrailer(trailer, error, reply.web));
}

/** The content type connect-node answers with: the codec always named. */
function responseType(reply: Reply): string {
  if (reply.text) return "application/grpc-web-text+proto";
  return reply.web ? "application/grpc-web+proto" : "application/grpc+proto";
}

/** Headers, the message frame if any, then the status: as HTTP/2 trailers, or as gRPC-Web's trailer frame. */
function send(reply: Reply, header: Headers | undefined, trailer: Headers, frame?: Uint8Array): void {
  const res = reply.res as ServerResponse;
  if (res.headersSent || res.destroyed) return;
  const head = outgoing(header, { ...reply.cors, "content-type": responseType(reply) });
  if (reply.encoding) head["grpc-encoding"] = reply.encoding.name;
  if (reply.web) {
    const last = trailerFrame(trailer, reply.encoding, reply.compressMinBytes);
    const frames = frame ? Buffer.concat([frame, last]) : last;
    const body = reply.text ? Buffer.from(Buffer.from(frames).toString("base64"), "latin1") : frames;
    head["content-length"] = String(body.byteLength);
    res.writeHead(200, head);
    endWithBody(res, body);
    return;
  }
  res.writeHead(200, head);
  res.addTrailers(outgoing(trailer, {}));
  if (frame) res.end(frame);
  else if (!header && reply.res instanceof RawHttp2Response) reply.res.endTrailersOnly();
  else res.end();
}
