import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from "node:http";
import type { Http2ServerRequest, Http2ServerResponse, ServerHttp2Stream } from "node:http2";
import type { DescMethod, DescService } from "@bufbuild/protobuf";
import {
  type ConnectRouter,
  type ConnectRouterOptions,
  cors as connectCors,
  createConnectRouter,
  createMethodImplSpec,
  createServiceImplSpec,
  type MethodImpl,
  type MethodImplSpec,
  type ServiceImpl,
} from "@connectrpc/connect";
import { createCallEngine } from "./call/engine.js";
import type { CallLimits } from "./call/limits.js";
import type { EarlyRefusal } from "./call/refusal.js";
import type { RequestBudget } from "./call/request-budget.js";
import { reportingGate } from "./call/request-gate.js";
import type { UnaryRoute } from "./call/routes.js";
import type { ServerStreamRoute } from "./call/server-stream-chain.js";
import type { CallInfoKey } from "./call-info.js";
import { getJsonOptions } from "./connect-internals.js";
import { createConnectRequestCheck } from "./protocol-connect/request-checks.js";
import { createGrpcWebTextHandler } from "./protocol-grpc-web/text-mode.js";
import { createProtocolHandler } from "./protocols.js";
import { offerRawStream } from "./wire/raw-http2-exchange.js";
import { responseEncodings } from "./wire/response-compression.js";

/**
 * How to build a fast path. Everything but `routes` has a default, and the
 * defaults are connect-node's own, so that a call answers the same whichever
 * of the two serves it.
 */
export interface FastPathOptions
  extends Pick<
    ConnectRouterOptions,
    | "interceptors"
    | "readMaxBytes"
    | "writeMaxBytes"
    | "compressMinBytes"
    | "acceptCompression"
    | "shutdownSignal"
    | "jsonOptions"
    | "binaryOptions"
    | "maxTimeoutMs"
    | "requireConnectProtocolHeader"
    | "requestGate"
    | "grpc"
    | "grpcWeb"
    | "connect"
  > {
  /**
   * Registers the services: the same function that is given to
   * connect-node's `connectNodeAdapter` or connect-fastify's plugin.
   */
  routes: (router: ConnectRouter) => void;
  /**
   * Browser origins allowed to call (`*` for any). A call from another
   * origin is handed on, so that the application's CORS handling answers
   * it. Default: none, so every cross-origin call is handed on.
   */
  corsOrigins?: readonly string[];
  /** Response headers an allowed page may read. Default: connect-es's `cors.exposedHeaders`. */
  corsExposedHeaders?: readonly string[];
  /**
   * Response headers (and trailers) whose value is new on every call, such
   * as a request id: on a raw HTTP/2 stream they are sent as HPACK
   * never-indexed literals (`http2.sensitiveHeaders`), so that they do not
   * churn the connection's header table. Default: none.
   */
  neverIndexedHeaders?: readonly string[];
  /**
   * Counts the bytes of request messages held before they are whole, by
   * connection, and refuses a call with RESOURCE_EXHAUSTED when its bytes
   * do not fit (`@greeter/one-port`'s `createByteBudget`). Give connect-node
   * the same budget (`meterRequestBody`), so that both paths share it.
   * Default: none (only `readMaxBytes` bounds a message).
   */
  requestBudget?: RequestBudget;
  /**
   * Told of every call this package refuses before the interceptors run (a
   * broken envelope, a message over the limit, a bad timeout, a spent
   * budget), which the interceptors therefore never count or log. What it
   * returns goes out with the error: in the trailers for gRPC and gRPC-Web
   * (a Trailers-Only answer stays one frame), in the headers for Connect
   * unary. Give it a request id that names the log line it writes.
   * Default: none.
   */
  onRefused?: (refusal: EarlyRefusal) => Record<string, string> | undefined;
  /**
   * The context key under which each call's `CallInfo` (protocol,
   * peer, bytes in and out, why it was ended) is put, for interceptors that
   * log or count by them. Give connect-node's calls the same key (through
   * the router's `contextValues`), so that interceptors see both paths
   * alike. Default: none, and nothing is put.
   */
  callInfoKey?: CallInfoKey;
}

/** The defaults of {@link FastPathOptions}, in one place. */
export const fastPathDefaults = {
  /** connect-node's: no limit but what the headers can say (longer than setTimeout can wait is clamped to `MAX_TIMEOUT_MS`). */
  maxTimeoutMs: Number.MAX_SAFE_INTEGER,
  /** connect-node's: a Connect call need not name the protocol version. */
  requireConnectProtocolHeader: false,
  /** connect-node's: all three protocols on. */
  grpc: true,
  grpcWeb: true,
  connect: true,
  /** connect-node's: no limit but the envelope's own (4 GiB). */
  readMaxBytes: 0xffffffff,
  writeMaxBytes: 0xffffffff,
  /** connect-node's: responses of 1 KiB or more are compressed for clients that accept it. */
  compressMinBytes: 1024,
  corsOrigins: [] as readonly string[],
  corsExposedHeaders: connectCors.exposedHeaders as readonly string[],
  neverIndexedHeaders: [] as readonly string[],
} as const;

/** A request and response of either HTTP version, as Node's `http` and `http2` (compatibility API) make them. */
export type NodeRequest = IncomingMessage | Http2ServerRequest;
export type NodeResponse = ServerResponse | Http2ServerResponse;

/** The calls a Connect router's unary and server-streaming methods get, answered without connect-node's streaming pipeline. */
export interface FastPath {
  /**
   * Answers the request if it is a call this package serves, and returns
   * true; returns false, having touched nothing, for anything else, which
   * the caller hands to connect-node (or its Fastify or Express adapter).
   */
  handle(req: NodeRequest, res: NodeResponse): boolean;
  /**
   * The same for an HTTP/2 stream before Node wraps it in its compatibility
   * API, which costs more per call than the call itself: give it to the
   * server's `stream` event ahead of the compatibility listener (see
   * `@greeter/one-port`'s `takeStream`).
   */
  takeStream(stream: ServerHttp2Stream, headers: IncomingHttpHeaders): boolean;
  /** The request paths this fast path may answer (`/package.Service/Method`). */
  readonly paths: readonly string[];
}

/**
 * Builds the fast path for the services `routes` registers: unary calls
 * without compressed bodies over gRPC, gRPC-Web (binary and text) and
 * Connect (POST and GET), server streams over the three, and gRPC-Web text
 * for every method kind (by translation around connect-node's gRPC-Web
 * handler). The same implementations run behind the same interceptors,
 * with a handler context of the same shape.
 */
export function createFastPath(options: FastPathOptions): FastPath {
  const { unary, serverStreaming, router } = recordRoutes(options);
  const limits = resolveLimits(options);
  const { handle: direct } = createProtocolHandler(createCallEngine({ unary, serverStreaming }, limits));
  const completions = completionsFor(router, limits);
  const neverIndexed = options.neverIndexedHeaders ?? fastPathDefaults.neverIndexedHeaders;
  return {
    handle: (req, res) => direct(req, res) || completions.handle(req, res),
    takeStream: (stream, headers) => offerRawStream(stream, headers, direct, neverIndexed),
    paths: [...unary, ...serverStreaming].map(({ method }) => `/${method.parent.typeName}/${method.name}`),
  };
}

/**
 * What connect-node lacks, for a server that runs without the fast path
 * (the fast path includes it): gRPC-Web's text mode, and INVALID_ARGUMENT
 * for Connect requests connect-node lets through or answers badly (see
 * protocol-connect/request-checks.ts).
 */
export function createConnectNodeCompletions(options: FastPathOptions): ConnectNodeCompletions {
  const { router } = recordRoutes(options);
  return completionsFor(router, resolveLimits(options));
}

/** Requests connect-node would answer badly or not at all, answered here. */
export interface ConnectNodeCompletions {
  /** Answers such a request for a method `routes` registered and returns true; returns false for anything else. */
  handle(req: NodeRequest, res: NodeResponse): boolean;
}

function completionsFor(router: ConnectRouter, { cors, callInfoKey, protocols }: CallLimits): ConnectNodeCompletions {
  const text = createGrpcWebTextHandler(router, cors, callInfoKey);
  if (!protocols.connect) return text;
  const get = createConnectRequestCheck(new Map(router.handlers.map((h) => [h.requestPath, h.allowedMethods])), cors);
  return { handle: (req, res) => get.handle(req, res) || text.handle(req, res) };
}

/**
 * Every option this package reads. Anything else is refused at creation:
 * an option connect-node honours and the fast path silently did not would
 * make the two paths answer differently.
 */
const KNOWN_OPTIONS = new Set<string>([
  "routes",
  "interceptors",
  "readMaxBytes",
  "writeMaxBytes",
  "compressMinBytes",
  "acceptCompression",
  "shutdownSignal",
  "jsonOptions",
  "binaryOptions",
  "maxTimeoutMs",
  "requireConnectProtocolHeader",
  "requestGate",
  "grpc",
  "grpcWeb",
  "connect",
  "corsOrigins",
  "corsExposedHeaders",
  "neverIndexedHeaders",
  "requestBudget",
  "onRefused",
  "callInfoKey",
]);

function refuseUnknownOptions(options: FastPathOptions): void {
  const unknown = Object.keys(options).filter(
    (key) => !KNOWN_OPTIONS.has(key) && (options as unknown as Record<string, unknown>)[key] !== undefined,
  );
  if (unknown.length > 0) {
    throw new Error(
      `createFastPath does not support ${unknown.map((key) => `"${key}"`).join(", ")}: leave ${unknown.length === 1 ? "it" : "them"} out, or serve without the fast path. It reads ${[...KNOWN_OPTIONS].join(", ")}.`,
    );
  }
}

function resolveLimits(options: FastPathOptions): CallLimits {
  refuseUnknownOptions(options);
  return {
    readMaxBytes: options.readMaxBytes ?? fastPathDefaults.readMaxBytes,
    writeMaxBytes: options.writeMaxBytes ?? fastPathDefaults.writeMaxBytes,
    compressMinBytes: options.compressMinBytes ?? fastPathDefaults.compressMinBytes,
    responseEncodings: responseEncodings(options.acceptCompression),
    shutdownSignal: options.shutdownSignal ?? new AbortController().signal,
    interceptors: options.interceptors ?? [],
    // connect-node's JSON defaults (unknown fields ignored), made once.
    jsonOptions: getJsonOptions(options.jsonOptions),
    // Left undefined when not given: protobuf-es then uses its defaults
    // object as it is, where `{}` would be merged into a new one per call.
    binaryOptions: options.binaryOptions,
    requestBudget: options.requestBudget,
    onRefused: options.onRefused,
    callInfoKey: options.callInfoKey,
    maxTimeoutMs: options.maxTimeoutMs ?? fastPathDefaults.maxTimeoutMs,
    requestGate: options.requestGate,
    protocols: {
      grpc: options.grpc ?? fastPathDefaults.grpc,
      grpcWeb: options.grpcWeb ?? fastPathDefaults.grpcWeb,
      connect: options.connect ?? fastPathDefaults.connect,
    },
    requireConnectProtocolHeader: options.requireConnectProtocolHeader ?? fastPathDefaults.requireConnectProtocolHeader,
    cors: {
      allowedOrigins: options.corsOrigins ?? fastPathDefaults.corsOrigins,
      exposedHeaders: options.corsExposedHeaders ?? fastPathDefaults.corsExposedHeaders,
    },
  };
}

/**
 * Runs `routes` against a real Connect router (for gRPC-Web text, which is
 * translated around connect-node's handlers), noting on the way each unary
 * and server-streaming implementation. A service registered with options of
 * its own is left to connect-node: this package does not know them.
 */
function recordRoutes(options: FastPathOptions) {
  // Its handlers serve the text mode, which reports a gate's refusals as the fast path does.
  const gate = options.requestGate;
  const router = createConnectRouter(gate ? { ...options, requestGate: reportingGate(gate, options) } : options);
  const unary: UnaryRoute[] = [];
  const serverStreaming: ServerStreamRoute[] = [];
  const note = (spec: MethodImplSpec): void => {
    if (spec.kind === "unary") unary.push({ method: spec.method, impl: spec.impl as UnaryRoute["impl"] });
    if (spec.kind === "server_streaming") {
      serverStreaming.push({ method: spec.method, impl: spec.impl as ServerStreamRoute["impl"] });
    }
  };
  const recorder: ConnectRouter = {
    get handlers() {
      return router.handlers;
    },
    service<T extends DescService>(service: T, impl: Partial<ServiceImpl<T>>, handlerOptions?: object) {
      router.service(service, impl, handlerOptions);
      if (!handlerOptions) for (const spec of Object.values(createServiceImplSpec(service, impl).methods)) note(spec);
      return recorder;
    },
    rpc<M extends DescMethod>(method: M, impl: MethodImpl<M>, handlerOptions?: object) {
      router.rpc(method, impl, handlerOptions);
      if (!handlerOptions) note(createMethodImplSpec(method, impl));
      return recorder;
    },
  };
  options.routes(recorder);
  return { unary, serverStreaming, router };
}
