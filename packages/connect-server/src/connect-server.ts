import type { Server as HttpServer } from "node:http";
import {
  Code,
  ConnectError,
  type ConnectRouter,
  createConnectRouter,
  createContextValues,
  type HandlerContext,
} from "@connectrpc/connect";
import { fastifyConnectPlugin } from "@connectrpc/connect-fastify";
import {
  type CallInfoKey,
  clampLongTimeouts,
  createConnectNodeCompletions,
  createFastPath,
  type EarlyRefusal,
  type FastPath,
  type FastPathOptions,
  meterRequestBody,
  type NodeRequest,
  type NodeResponse,
  type RequestBudget,
  takeTurns,
} from "@greeter/connect-fast-path";
import {
  createOnePortServer,
  type DualRequestListener,
  type OnePortServer,
  type OnePortServerOptions,
} from "@greeter/one-port";
import Fastify, { type FastifyInstance, type FastifyServerOptions } from "fastify";
import { connectNodeCallInfo } from "./connect-node/call-info.js";
import { encodeGrpcMessagesAsSpecified } from "./connect-node/grpc-message-encoding.js";
import {
  type ChainEntered,
  chainEnteredKey,
  markChainEntered,
  requestIdFor,
  watchConnectNodeCall,
} from "./connect-node/refusals.js";

/** The router options both paths get alike. */
export type ConnectServerRouterOptions = Omit<
  FastPathOptions,
  | "routes"
  | "corsOrigins"
  | "corsExposedHeaders"
  | "neverIndexedHeaders"
  | "requestBudget"
  | "onRefused"
  | "callInfoKey"
>;

/** A call refused before the interceptors ran, on either path: they never see it, so this is its only trace. */
export interface RefusedCall {
  /** The id the answer carries in `x-request-id`: the caller's, if it sent a usable one. */
  requestId: string;
  /** `/package.Service/Method`. */
  procedure: string;
  protocol: "grpc" | "grpc-web" | "connect";
  /** Connect's name of the code, e.g. `invalid_argument`. */
  code: string;
  message: string;
  /** The client's address, e.g. `127.0.0.1:53110`. */
  peer: string;
  /** What lies behind the error, when the server still has it (a request gate's), for the log only. */
  cause?: unknown;
}

/** How to assemble a Connect server on one port. Everything but `routes` has a default. */
export interface ConnectServerOptions {
  /** Registers the services, as for connect-node. */
  routes: (router: ConnectRouter) => void;
  /** Interceptors, limits, compression, the request gate: given to both paths alike. Default: connect-node's. */
  router?: ConnectServerRouterOptions;
  /**
   * The fast path in front (`@greeter/connect-fast-path`). False: connect-fastify
   * answers every call but what connect-node lacks (gRPC-Web's text mode,
   * bad base64 in a Connect GET). Default true.
   */
  fastPath?: boolean;
  /** The fast path's CORS answers and HPACK never-indexed headers; see FastPathOptions. Default: none. */
  corsOrigins?: readonly string[];
  corsExposedHeaders?: readonly string[];
  neverIndexedHeaders?: readonly string[];
  /** Counts request bytes held before a message is whole, by connection, on both paths. Default: no limit but `readMaxBytes`. */
  requestBudget?: RequestBudget;
  /** Where each call's CallInfo goes for interceptors to read, on both paths. Default: nowhere. */
  callInfoKey?: CallInfoKey;
  /**
   * Told of every call refused before the interceptors ran, on either path
   * (a broken envelope, a bad timeout, a spent budget, the request gate),
   * after the answer, which carries `x-request-id`. Default: none (the id
   * is still sent).
   */
  onRefused?: (refusal: RefusedCall) => void;
  /** The port's own options (TLS, timeouts, limits, defences); `takeStream` is the fast path's. Default: one-port's. */
  onePort?: Omit<OnePortServerOptions, "takeStream">;
  /** Fastify's options (its logger, say); `serverFactory` is this package's. Default: Fastify's. */
  fastify?: Omit<FastifyServerOptions, "serverFactory">;
  /** Runs before connect-fastify's routes are registered: plugins their hooks must see (CORS). */
  beforeRoutes?: (app: FastifyInstance) => Promise<void> | void;
}

/** A built, not yet listening, Connect server: Fastify on the one port, the services registered. */
export interface ConnectServer {
  /** Add routes of your own (health, metrics, a web app); `listen` and `close` start and stop it all. */
  readonly app: FastifyInstance;
  /** The port: `drain(graceMs)` stops it gracefully, `server.address()` says where it listens. */
  readonly onePort: OnePortServer;
  /** The fast path, when it is on. */
  readonly fastPath: FastPath | undefined;
}

/** Connect's name of a code: `invalid_argument` for Code.InvalidArgument. */
function codeName(code: Code): string {
  return Code[code].replace(/([a-z])([A-Z])/g, "$1_$2").toLowerCase();
}

/** The protocol of a call connect-node answers, by its content type. */
const PROTOCOL_OF = (contentType: string | undefined): RefusedCall["protocol"] => {
  if (contentType?.startsWith("application/grpc-web")) return "grpc-web";
  if (contentType?.startsWith("application/grpc")) return "grpc";
  return "connect";
};

/** No budget but `readMaxBytes`: connect-node's request meter still checks JSON's UTF-8. */
const UNLIMITED: RequestBudget = { hold: () => undefined, release: () => undefined };

/**
 * Builds the one assembly Greeter ships, and the conformance suite and the
 * differential test run: `@greeter/one-port` listening for HTTP/1.1 and
 * HTTP/2 on one port; in front, the fast path, which answers unary calls
 * and server streams itself; behind it, Fastify with connect-fastify for
 * everything the fast path hands on, with what connect-node lacks added
 * around it: long deadlines clamped, `grpc-message` encoded as the gRPC
 * spec says, request bytes counted against the budget and JSON checked to
 * be UTF-8, writes that let the event loop turn, and calls refused before
 * the interceptors reported and answered with a request id, as the fast
 * path's are.
 */
export async function createConnectServer(options: ConnectServerOptions): Promise<ConnectServer> {
  const router = options.router ?? {};
  const budget = options.requestBudget ?? UNLIMITED;
  const onRefused = options.onRefused;
  const front: FastPathOptions = {
    ...router,
    routes: options.routes,
    corsOrigins: options.corsOrigins,
    corsExposedHeaders: options.corsExposedHeaders,
    neverIndexedHeaders: options.neverIndexedHeaders,
    requestBudget: options.requestBudget,
    callInfoKey: options.callInfoKey,
    onRefused: (refusal: EarlyRefusal) => {
      const requestId = requestIdFor(refusal.requestHeaders["x-request-id"]);
      onRefused?.({
        requestId,
        procedure: refusal.procedure,
        protocol: refusal.protocol,
        code: codeName(refusal.error.code),
        message: refusal.error.rawMessage,
        peer: refusal.peer,
        cause: refusal.error.cause,
      });
      return { "x-request-id": requestId };
    },
  };
  const fastPath = options.fastPath === false ? undefined : createFastPath(front);
  const ahead = fastPath ?? createConnectNodeCompletions(front);

  // Calls connect-node refuses before its interceptors: watched, so that
  // they are reported and answered with a request id, as the fast path's are.
  const rpcPaths = new Set(routerHandlers(options.routes).map((h) => h.requestPath));
  const chainMarks = new WeakMap<object, ChainEntered>();
  const watchRefusals = (req: NodeRequest, res: NodeResponse): void => {
    const procedure = (req.url ?? "").split("?")[0] ?? "";
    if (!rpcPaths.has(procedure)) return;
    const mark: ChainEntered = { entered: false };
    chainMarks.set(req, mark);
    // Now: an HTTP/2 request's socket is gone once its stream has closed.
    const peer = `${req.socket?.remoteAddress}:${req.socket?.remotePort}`;
    watchConnectNodeCall(req, res, mark, (refusal) =>
      onRefused?.({
        ...refusal,
        procedure,
        protocol: PROTOCOL_OF(req.headers["content-type"]),
        peer,
        cause: mark.gateError instanceof ConnectError ? mark.gateError.cause : undefined,
      }),
    );
  };

  let onePort: OnePortServer | undefined;
  const app = Fastify({
    ...options.fastify,
    // Fastify's types know one server kind at a time. At run time requests
    // arrive through `http` or `http2`'s compatibility API, which offers
    // what Fastify and connect-node use (`request.raw.httpVersion` tells).
    serverFactory(handler) {
      const dual = handler as DualRequestListener;
      const listener: DualRequestListener = (req, res) => {
        if (ahead.handle(req, res)) return;
        // connect-node takes a deadline longer than setTimeout can wait and
        // arms a timer that fires after 1 ms: clamp it first, as the fast
        // path does.
        clampLongTimeouts(req.headers, router.maxTimeoutMs);
        encodeGrpcMessagesAsSpecified(req.headers, res);
        meterRequestBody(req, budget, { readMaxBytes: router.readMaxBytes });
        takeTurns(res);
        watchRefusals(req, res);
        dual(req, res);
      };
      onePort = createOnePortServer(listener, { ...options.onePort, takeStream: fastPath?.takeStream });
      return onePort.server as HttpServer;
    },
  });
  if (!onePort) throw new Error("Fastify did not call serverFactory");
  const port: OnePortServer = onePort;

  await options.beforeRoutes?.(app);
  const callInfoKey = options.callInfoKey;
  await app.register(fastifyConnectPlugin, {
    ...router,
    routes: options.routes,
    requestGate: router.requestGate && noteGateErrors(router.requestGate),
    interceptors: [markChainEntered, ...(router.interceptors ?? [])],
    contextValues: (request) => {
      const values = createContextValues().set(chainEnteredKey, chainMarks.get(request.raw));
      return callInfoKey ? values.set(callInfoKey, connectNodeCallInfo(request.raw)) : values;
    },
  });
  return { app, onePort: port, fastPath };
}

/** The handlers `routes` registers, to know which paths are calls. */
function routerHandlers(routes: (router: ConnectRouter) => void) {
  const router = createConnectRouter();
  routes(router);
  return router.handlers;
}

/**
 * connect-node's gate, keeping the error it refuses a call with where the
 * refusal watcher finds it (the call's ChainEntered): the answer carries
 * only the code and message, and the report wants the cause too. The fast
 * path reports its refusals whole.
 */
function noteGateErrors(gate: (context: HandlerContext) => void | Promise<void>) {
  const note = (context: HandlerContext, error: unknown): never => {
    const mark = context.values.get(chainEnteredKey);
    if (mark) mark.gateError = error;
    throw error;
  };
  return (context: HandlerContext): void | Promise<void> => {
    let result: void | Promise<void>;
    try {
      result = gate(context);
    } catch (e) {
      return note(context, e);
    }
    // Any thenable, as connect awaits whatever a gate returns.
    const thenable =
      typeof result === "object" && result !== null && typeof (result as PromiseLike<void>).then === "function";
    return thenable ? Promise.resolve(result).catch((e: unknown) => note(context, e)) : result;
  };
}
