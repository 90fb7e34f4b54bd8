import type { ServerResponse } from "node:http";
import {
  type DescMessage,
  fromBinary,
  fromJsonString,
  type JsonWriteOptions,
  type Message,
  toBinary,
  toJsonString,
} from "@bufbuild/protobuf";
import { MethodOptions_IdempotencyLevel } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import type { CallContext } from "../call/context.js";
import type { CallEngine } from "../call/engine.js";
import { type CallLimits, checkWriteSize, tooLarge } from "../call/limits.js";
import { readBody } from "../call/read-body.js";
import { reportRefusal } from "../call/refusal.js";
import { askGate, GateContext, type GatedCall, reportGateRefusal } from "../call/request-gate.js";
import type { PreparedRoute } from "../call/routes.js";
import { runUnaryCall } from "../call/run-unary-call.js";
import { requestTimeout } from "../call/timeouts.js";
import { codeToHttpStatus, errorToJsonBytes, mergeNonProtocolHeaders } from "../connect-internals.js";
import { corsHeaders } from "../wire/cors.js";
import { endWithBody } from "../wire/end-with-body.js";
import { abandon, copyHeadersInto, type FastRequest, type FastResponse } from "../wire/exchange.js";
import { compressIfWorth, type ResponseEncodings } from "../wire/response-compression.js";
import { strictUtf8 } from "../wire/strict-utf8.js";
import { isBase64, notBase64, rawQueryParam } from "./base64-message.js";
import { connectVersionRequired } from "./protocol-version.js";

// connect-es's own test: a charset after one optional space, any case.
const JSON_TYPE = /^application\/json(; ?charset=utf-?8)?$/i;
const PROTO_TYPE = "application/proto";

/**
 * Unary Connect calls (POST, and GET for methods without side effects;
 * JSON or binary; HTTP/1.1 or HTTP/2), answered without connect-node's
 * streaming pipeline; see protocol-grpc/unary.ts for why.
 *
 * It takes the plain case only and leaves the rest to connect-node, whose
 * answers stay the reference: compressed bodies and messages, a
 * `connect-protocol-version` other than 1, GET for other methods, and
 * browsers from origins CORS does not allow (wire/cors.ts).
 */
export function createConnectUnary(engine: CallEngine) {
  const { limits: options, inflight } = engine;
  const byPath = engine.unary;

  /** Takes a POST to a unary method if it is a call this path serves; returns whether it did. */
  function handlePost(req: FastRequest, res: FastResponse, route: PreparedRoute): boolean {
    const contentType = req.headers["content-type"] ?? "";
    const binary = contentType === PROTO_TYPE;
    if (!binary && !JSON_TYPE.test(contentType)) return false;
    const version = req.headers["connect-protocol-version"];
    if (version !== undefined && version !== "1") return false;
    const cors = corsHeaders(req.headers, options.cors);
    if (!cors) return false;

    if (options.requestGate) {
      gateThen(req, res, route, cors, (gated) => readPost(req, res, route, cors, binary, version, gated));
    } else readPost(req, res, route, cors, binary, version, undefined);
    return true;
  }

  /** Reads a POST's body and serves the call. */
  function readPost(
    req: FastRequest,
    res: FastResponse,
    route: PreparedRoute,
    cors: Record<string, string>,
    binary: boolean,
    version: string | string[] | undefined,
    gated: GatedCall | undefined,
  ): void {
    if (version === undefined && options.requireConnectProtocolHeader) {
      refuse(req, res, cors, connectVersionRequired("header"), gated);
      return;
    }
    readBody(req, options.readMaxBytes, options.requestBudget, (body) => {
      if (body instanceof ConnectError) refuse(req, res, cors, timeoutError(req, gated) ?? body, gated);
      else serve(req, res, route, cors, body, binary, gated);
    });
  }

  /** Makes the call's context, runs the request gate on it, and then `start`, or answers the gate's refusal. */
  function gateThen(
    req: FastRequest,
    res: FastResponse,
    route: PreparedRoute,
    cors: Record<string, string>,
    start: (gated: GatedCall | undefined) => void,
  ): void {
    const gate = options.requestGate;
    if (!gate) return;
    const view = new GateContext(options, inflight, req, route.method, "connect", "connect-timeout-ms");
    const verdict = askGate(gate, view);
    if (verdict === undefined) start(view.gated());
    else if (verdict instanceof ConnectError) refuseAtGate(req, res, cors, verdict, view.context());
    else {
      verdict
        .then((error) => (error ? refuseAtGate(req, res, cors, error, view.context()) : start(view.gated())))
        .catch(() => abandon(res));
    }
  }

  /** A call the request gate refused: reported as an early refusal, and answered with what the gate set. */
  function refuseAtGate(
    req: FastRequest,
    res: FastResponse,
    cors: Record<string, string>,
    error: ConnectError,
    context: CallContext,
  ): void {
    context.finish();
    reportGateRefusal(options, req, "connect", error, context);
    respondError(res, cors, error, context.responseHeader, context.responseTrailerIfSet, errorBodyFor(req));
  }

  /**
   * Connect's GET form of a unary call, for methods without side effects:
   * the message in the query (`encoding`, `message`, `base64`), so browsers
   * and caches can treat the call as any GET. Compressed messages stay
   * with connect-node.
   */
  function handleGet(req: FastRequest, res: FastResponse): boolean {
    const url = req.url ?? "";
    const queryAt = url.indexOf("?");
    if (queryAt < 0) return false;
    const route = byPath.get(url.slice(0, queryAt));
    if (route?.method.idempotency !== MethodOptions_IdempotencyLevel.NO_SIDE_EFFECTS) return false;
    const query = new URLSearchParams(url.slice(queryAt + 1));
    const encoding = query.get("encoding");
    if (encoding !== "json" && encoding !== "proto") return false;
    // Another protocol version is refused by request-checks.ts.
    const connect = query.get("connect");
    if (connect !== null && connect !== "v1") return false;
    const compression = query.get("compression");
    if (compression !== null && compression !== "identity") return false;
    const cors = corsHeaders(req.headers, options.cors);
    if (!cors) return false;
    if (options.requestGate) {
      gateThen(req, res, route, cors, (gated) => serveGet(req, res, route, cors, url.slice(queryAt + 1), query, gated));
    } else serveGet(req, res, route, cors, url.slice(queryAt + 1), query, undefined);
    return true;
  }

  function serveGet(
    req: FastRequest,
    res: FastResponse,
    route: PreparedRoute,
    cors: Record<string, string>,
    rawQuery: string,
    query: URLSearchParams,
    gated: GatedCall | undefined,
  ): void {
    if (query.get("connect") === null && options.requireConnectProtocolHeader) {
      refuse(req, res, cors, connectVersionRequired("query"), gated);
      return;
    }
    const encoding = query.get("encoding");
    const message = query.get("message") ?? "";
    const base64 = query.get("base64") === "1";
    if (base64 && !isBase64(message)) {
      refuse(req, res, cors, notBase64(), gated);
      return;
    }
    // JSON: not `message` as URLSearchParams decodes it, so that bytes that
    // are not UTF-8 reach the JSON check as they are (see rawQueryParam).
    // Binary without base64 is read as connect-node reads it.
    const body = base64
      ? Buffer.from(message, "base64url")
      : encoding === "json"
        ? (rawQueryParam(rawQuery, "message") ?? Buffer.alloc(0))
        : Buffer.from(message, "utf8");
    if (body.byteLength > options.readMaxBytes) {
      refuse(req, res, cors, timeoutError(req, gated) ?? tooLarge(options.readMaxBytes), gated);
    } else {
      serve(req, res, route, cors, body, encoding === "proto", gated);
    }
  }

  /** Runs a call whose request message is read, and answers it. */
  function serve(
    req: FastRequest,
    res: FastResponse,
    route: PreparedRoute,
    cors: Record<string, string>,
    body: Buffer,
    binary: boolean,
    gated?: GatedCall,
  ): void {
    // connect-node refuses a bad deadline before it reads the body: that error comes first.
    const timeout = requestTimeout(req.headers, "connect-timeout-ms", options.maxTimeoutMs, gated);
    const request = timeout.error ?? parseRequest(body, route.method.input, binary, options);
    if (request instanceof ConnectError) {
      refuse(req, res, cors, request, gated);
      return;
    }
    let encoding: string | undefined;
    const call = {
      req,
      res,
      route,
      protocolName: "connect",
      request,
      bytesIn: body.byteLength,
      encode: (message: Message) => {
        const encoded = binary
          ? toBinary(route.method.output, message, options.binaryOptions)
          : Buffer.from(toJsonString(route.method.output, message, options.jsonOptions));
        checkWriteSize(encoded, options.writeMaxBytes);
        const compressed =
          encoded.byteLength < options.compressMinBytes
            ? { bytes: encoded, encoding: undefined }
            : compressIfWorth(
                encoded,
                options.responseEncodings.choose(req.headers["accept-encoding"]),
                options.compressMinBytes,
              );
        encoding = compressed.encoding;
        return compressed.bytes;
      },
      timeoutMs: timeout.timeoutMs,
      inflight,
      context: gated?.context,
    };
    const type = binary ? PROTO_TYPE : "application/json";
    runUnaryCall(
      call,
      (encoded, context) =>
        send(res, 200, type, cors, context.responseHeaderIfSet, context.responseTrailerIfSet, encoded, encoding),
      (error, context) =>
        respondError(res, cors, error, context.responseHeaderIfSet, context.responseTrailerIfSet, errorBodyFor(req)),
    );
  }

  /** Why the call's deadline header cannot be read, if it cannot: connect-node says so before anything about the body. */
  function timeoutError(req: FastRequest, gated: GatedCall | undefined): ConnectError | undefined {
    return requestTimeout(req.headers, "connect-timeout-ms", options.maxTimeoutMs, gated).error;
  }

  /**
   * An error before the interceptors: reported, with what the report adds in
   * the answer's headers. Past a gate, the call has a context already: what
   * the gate set in it goes out too.
   */
  function refuse(
    req: FastRequest,
    res: FastResponse,
    cors: Record<string, string>,
    error: ConnectError,
    gated?: GatedCall,
  ): void {
    const context = gated?.context;
    context?.finish();
    const header = context?.responseHeader ?? new Headers();
    reportRefusal(options, req, "connect", error, header);
    respondError(res, cors, error, header, context?.responseTrailerIfSet, errorBodyFor(req));
  }

  /** How an error's body is written and compressed: as a message is, as connect-node does. */
  function errorBodyFor(req: FastRequest): ErrorBody {
    return {
      available: options.responseEncodings,
      accepted: req.headers["accept-encoding"],
      minBytes: options.compressMinBytes,
      jsonOptions: options.jsonOptions,
    };
  }

  return { handlePost, handleGet };
}

function parseRequest(body: Buffer, schema: DescMessage, binary: boolean, options: CallLimits): unknown {
  try {
    return binary
      ? fromBinary(schema, body, options.binaryOptions)
      : fromJsonString(schema, strictUtf8(body), options.jsonOptions);
  } catch (e) {
    const reason = e instanceof Error ? e.message : String(e);
    return binary
      ? new ConnectError(`parse binary: ${reason}`, Code.Internal)
      : ConnectError.from(e, Code.InvalidArgument);
  }
}

/**
 * Answers a Connect unary call with an error: the status for its code, the
 * JSON error, its metadata as headers. As connect-node (since 2.2.0) does:
 * the metadata's protocol headers (`content-encoding`, `content-type`,
 * `grpc-status`...) are left out, since they would describe a body that is
 * not the one sent, and an error received from another server (a wire
 * error) relays only its code, message and details.
 */
export function respondError(
  res: FastResponse,
  cors: Record<string, string>,
  error: ConnectError,
  header: Headers | undefined,
  trailer: Headers | undefined,
  errorBody?: ErrorBody,
): void {
  const merged = new Headers(header);
  if (!error.isWireError) mergeNonProtocolHeaders(merged, error.metadata);
  // The JSON options matter for details: with a registry, each gets its `debug` rendering, as on connect-node.
  const json = errorToJsonBytes(error, errorBody?.jsonOptions ?? {});
  const body = errorBody
    ? compressIfWorth(json, errorBody.available.choose(errorBody.accepted), errorBody.minBytes)
    : { bytes: json };
  send(res, codeToHttpStatus(error.code), "application/json", cors, merged, trailer, body.bytes, body.encoding);
}

/**
 * How an error's JSON body is written and compressed: connect-node writes
 * it with the handler's JSON options and compresses it as it would a
 * message (from `compressMinBytes` on, in an encoding the client accepts).
 * None: default JSON options, sent uncompressed.
 */
export interface ErrorBody {
  available: ResponseEncodings;
  accepted: string | string[] | undefined;
  minBytes: number;
  jsonOptions: Partial<JsonWriteOptions> | undefined;
}

/** Headers (with trailers as `trailer-` headers, as Connect unary carries them) and the body. */
function send(
  res: FastResponse,
  status: number,
  contentType: string,
  cors: Record<string, string>,
  header: Headers | undefined,
  trailer: Headers | undefined,
  body: Uint8Array,
  encoding?: string,
): void {
  if (res.headersSent || res.destroyed) return;
  const out: Record<string, string> = { ...cors };
  // As connect's trailerMux, without building a Headers to hold the result.
  copyHeadersInto(header, out);
  copyHeadersInto(trailer, out, "trailer-");
  out["content-type"] = contentType;
  if (encoding) out["content-encoding"] = encoding;
  out["content-length"] = String(body.byteLength);
  (res as ServerResponse).writeHead(status, out);
  endWithBody(res, body);
}
