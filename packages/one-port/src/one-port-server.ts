import http, { type IncomingMessage, type ServerResponse } from "node:http";
import http2, {
  type Http2ServerRequest,
  type Http2ServerResponse,
  type Http2Session,
  type IncomingHttpHeaders,
  type ServerHttp2Stream,
} from "node:http2";
import net, { type Socket } from "node:net";
import type { TLSSocket } from "node:tls";
import type { ByteBudget } from "./byte-budget.js";
import type { MemoryGuard } from "./memory-guard.js";
import { sniffProtocol } from "./preface.js";
import { keepRepeatedAuthorization } from "./repeated-authorization.js";
import { createResetLimit, nodeResetOptions, type ResetLimitOptions } from "./reset-limit.js";
import { manageSession, type SessionLifecycleOptions } from "./session-lifecycle.js";

/** A request listener that serves both HTTP/1.1 and HTTP/2 (compatibility API) requests. */
export type DualRequestListener = (
  req: IncomingMessage | Http2ServerRequest,
  res: ServerResponse | Http2ServerResponse,
) => void;

/** Takes an HTTP/2 stream itself (returns true), or leaves it to the request listener (false). */
export type StreamTaker = (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) => boolean;

export interface OnePortServerOptions extends SessionLifecycleOptions, ResetLimitOptions {
  /**
   * Offered every HTTP/2 stream before Node's compatibility API wraps it in
   * a request and a response for the listener: a fast path can answer on
   * the stream itself and spare the wrapping.
   * @default undefined (every request goes to the listener)
   */
  takeStream?: StreamTaker;
  /**
   * Serve TLS on the port, offering `h2` and `http/1.1` by ALPN. Without it
   * the port is cleartext and tells the two apart by the HTTP/2 preface.
   * With `clientCa`, a client must present a certificate signed by it
   * (mutual TLS); others fail the handshake.
   * @default undefined (cleartext)
   */
  tls?: { cert: string | Buffer; key: string | Buffer; clientCa?: string | Buffer };
  /**
   * How long a new cleartext connection may stay silent before it is
   * dropped, in milliseconds. Covers the time before the server knows which
   * protocol it speaks, where no HTTP timeout applies yet.
   * @default 10_000
   */
  prefaceTimeoutMs?: number;
  /**
   * HTTP/1.1 keep-alive: how long an idle connection stays open.
   * @default 5_000 (Node's default, which clients such as undici expect)
   */
  keepAliveTimeoutMs?: number;
  /**
   * HTTP/1.1: the time a client has to send the whole request head. A
   * server that faces browsers directly is its own edge: HAProxy's own
   * advice there is 10 s (`timeout http-request`), where Node's is 60 s.
   * @default 10_000
   */
  headersTimeoutMs?: number;
  /**
   * Open connections accepted in all; past it, new ones are closed as soon
   * as they are accepted (Node's `server.maxConnections`). 0 = no cap.
   * @default 10_000
   */
  maxConnections?: number;
  /**
   * Open connections one client address may hold; past it, its new ones are
   * closed as soon as they are accepted, before a byte is read, while other
   * addresses go on as before. 0 = no cap.
   * @default 256
   */
  maxConnectionsPerAddress?: number;
  /**
   * HTTP/1.1: the time a client has to send the whole request, body included.
   * Streaming calls over HTTP/1.1 (gRPC-Web) only stream the response, so
   * this does not cut them.
   * @default 300_000 (Node's default)
   */
  requestTimeoutMs?: number;
  /**
   * HTTP/2 SETTINGS sent to every client. `maxHeaderListSize` is also the
   * largest request head HTTP/1.1 takes, so both versions have one limit.
   * @default { maxConcurrentStreams: 1000, maxHeaderListSize: 16384 }
   */
  http2Settings?: http2.Settings;
  /**
   * Header fields one request may carry, on either HTTP version: more get
   * 431 over HTTP/1.1 (Node alone would drop the extra ones silently) and a
   * reset stream over HTTP/2 (Node's `maxHeaderListPairs`).
   * @default 128 (Node's HTTP/2 default)
   */
  maxHeaderFields?: number;
  /**
   * Sheds load when memory runs short (`createMemoryGuard`). Under `shed`
   * pressure every new request is answered with `refuse`'s answer before
   * anything reads it, on either HTTP version; calls in flight go on. Under
   * `critical` pressure the connection that holds the most (response bytes
   * waiting for a client that does not read, request bytes counted in
   * `requestBudget`) is also closed, one per reading.
   * @default undefined (no shedding)
   */
  memoryGuard?: MemoryGuard;
  /** What connections hold of unfinished request messages, to find the heaviest under critical pressure. */
  requestBudget?: ByteBudget;
  /**
   * Paths still served while shedding: health checks and metrics, which
   * tell an operator and a balancer what is going on.
   * @default () => false
   */
  keepServing?: (path: string) => boolean;
  /**
   * The answer to a request refused while shedding, from its headers and
   * the client's address (protocols say "unavailable" each their own way).
   * @default 503 with `retry-after: 1` and a sentence
   */
  refuse?: (headers: IncomingHttpHeaders, peer: string) => Refusal;
  /** Told of every request refused and every connection closed for lack of memory (for metrics and logs). */
  onOverload?: (event: OverloadEvent) => void;
}

/** An answer to a refused request. */
export interface Refusal {
  status: number;
  headers: Record<string, string>;
  body?: string;
}

/** What the server did for lack of memory. */
export type OverloadEvent =
  | { action: "refused"; httpVersion: "1.1" | "2"; path: string; peer: string }
  | { action: "closed"; why: OverloadReason; httpVersion: "1.1" | "2"; heldBytes: number; peer: string };

/** Why a connection was closed: memory ran short, or the request budget's total was spent. */
export type OverloadReason = "memory" | "request budget";

/** One listening port that hands each connection to an HTTP/1.1 or an HTTP/2 server. */
export interface OnePortServer {
  /** The listening server: return it from Fastify's `serverFactory`, or call `listen()` on it. */
  readonly server: net.Server;
  /** Whether `drain()` has been called. */
  readonly draining: boolean;
  /**
   * HTTP/2 streams `takeStream` answered itself. It stays 0 if Node's
   * compatibility API could not be put behind `takeStream` (see
   * offerStreamsFirst), which a fast path would otherwise not notice.
   */
  readonly streamsTaken: number;
  /**
   * Closes the connection that holds the most (see `memoryGuard`), at most
   * once every 250 ms: what the memory guard does when critical, and what
   * the server does when the request budget's total is spent, so that the
   * client holding it, rather than every other, pays.
   */
  shedHeaviest(why: OverloadReason): void;
  /**
   * Shuts down gracefully: stops accepting connections, sends GOAWAY to
   * every HTTP/2 client, closes idle HTTP/1.1 connections and answers the
   * remaining requests with `connection: close`. In-flight requests may
   * finish within `graceMs`; whatever is still open then is destroyed.
   * Resolves when every connection is closed.
   */
  drain(graceMs: number): Promise<void>;
}

/** The HTTP/1.1 knobs a drain and the timeouts need. */
interface Http1Controls {
  maxHeadersCount: number | null;
  keepAliveTimeout: number;
  headersTimeout: number;
  requestTimeout: number;
  closeIdleConnections(): void;
}

const DEFAULTS = {
  prefaceTimeoutMs: 10_000,
  keepAliveTimeoutMs: 5_000,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 300_000,
  maxConnections: 10_000,
  maxConnectionsPerAddress: 256,
  http2Settings: { maxConcurrentStreams: 1000, maxHeaderListSize: 16_384 },
  maxHeaderFields: 128,
} satisfies OnePortServerOptions;

const defaultRefuse = (): Refusal => ({
  status: 503,
  headers: { "content-type": "text/plain; charset=utf-8", "retry-after": "1" },
  body: "the server is short of memory; retry later\n",
});

const peerOf = (socket: Socket | undefined): string => `${socket?.remoteAddress}:${socket?.remotePort}`;

/** How often Node checks HTTP/1.1 connections against headersTimeout and requestTimeout. */
const CHECK_INTERVAL_MS = 1_000;

/**
 * Counts open connections by client address. `admit` destroys a socket
 * past the cap (returning false) and otherwise counts it until it closes.
 */
function createAddressCap(max: number): { admit(socket: Socket): boolean } {
  const open = new Map<string, number>();
  return {
    admit(socket) {
      if (max <= 0) return true;
      const address = socket.remoteAddress ?? "";
      const count = open.get(address) ?? 0;
      if (count >= max) {
        socket.destroy();
        return false;
      }
      open.set(address, count + 1);
      socket.once("close", () => {
        const left = (open.get(address) ?? 1) - 1;
        if (left === 0) open.delete(address);
        else open.set(address, left);
      });
      return true;
    },
  };
}

/** How often the sessions' lists of streams are swept of the closed ones. */
const SWEEP_MS = 100;

/**
 * What an open HTTP/2 stream is taken to hold when connections are weighed,
 * beyond the bytes counted for it: a stream that sent only its head, or a
 * body under the fast path's uncounted 16 KiB, still costs the server.
 */
const STREAM_WEIGHT_BYTES = 16 * 1024;

/** Under critical memory pressure, the least time between two connections closed. */
const CRITICAL_CLOSE_INTERVAL_MS = 250;

/** How often a drain re-checks for HTTP/1.1 connections that turned idle. */
const DRAIN_POLL_MS = 50;

export function createOnePortServer(listener: DualRequestListener, options: OnePortServerOptions = {}): OnePortServer {
  const opts = { ...DEFAULTS, ...options, http2Settings: { ...DEFAULTS.http2Settings, ...options.http2Settings } };
  const { memoryGuard, keepServing, requestBudget, onOverload } = opts;
  const refuse = opts.refuse ?? defaultRefuse;
  const sockets = new Set<Socket>();
  // Cleartext sockets handed to the HTTP/2 server: weighed through their session.
  const h2Sockets = new WeakSet<Socket>();
  const sessions = new Set<Http2Session>();
  let draining = false;

  // The latest HTTP/1.1 response on each connection. When a drain starts,
  // one whose head is not sent yet is switched to `connection: close`, like
  // every later one, so no client sends another request on a connection
  // about to close (the keep-alive race that would fail a call). A map by
  // connection, not a set of responses: a response then costs one entry
  // that the next one overwrites, not a set entry and a 'close' listener.
  const latestResponse = new WeakMap<object, ServerResponse>();
  const handle: DualRequestListener = (req, res) => {
    keepRepeatedAuthorization(req.headers, req.rawHeaders);
    if (req.httpVersionMajor === 1) {
      const response = res as ServerResponse;
      if (req.rawHeaders.length > 2 * opts.maxHeaderFields) {
        response.shouldKeepAlive = false;
        response.writeHead(431, { "content-type": "text/plain; charset=utf-8" });
        response.end(`a request may carry at most ${opts.maxHeaderFields} header fields\n`);
        return;
      }
      if (draining) response.shouldKeepAlive = false;
      else latestResponse.set(req.socket, response);
      // Preflights are answered while shedding: they cost nothing, and a
      // refused one would hide the refusal of the call from the page.
      if (
        memoryGuard &&
        memoryGuard.pressure !== "normal" &&
        req.method !== "OPTIONS" &&
        !keepServing?.(req.url ?? "")
      ) {
        const peer = peerOf(req.socket);
        onOverload?.({ action: "refused", httpVersion: "1.1", path: req.url ?? "", peer });
        const answer = refuse(req.headers, peer);
        response.writeHead(answer.status, answer.headers);
        response.end(answer.body);
        return;
      }
    }
    listener(req, res);
  };

  const trackSocket = (socket: Socket): void => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  };
  const perAddress = createAddressCap(opts.maxConnectionsPerAddress);
  const limitResets = createResetLimit(opts);
  const trackSession = (session: Http2Session): void => {
    sessions.add(session);
    limitResets(session);
    session.once("close", () => {
      sessions.delete(session);
      openStreams.delete(session);
    });
    manageSession(session, opts);
    if (draining) session.close();
  };

  let server: net.Server;
  let http1: Http1Controls;
  let streamsTaken = 0;
  const { takeStream } = opts;
  // The streams each session has open, to weigh what it holds under
  // critical pressure. Closed ones are swept out every SWEEP_MS (by the
  // memory guard's readings) rather than by a 'close' listener per stream;
  // until then a closed stream, and what its listeners hold, stays reachable.
  const openStreams = new Map<Http2Session, ServerHttp2Stream[]>();
  const noteStream = (stream: ServerHttp2Stream): void => {
    const { session } = stream;
    if (!session) return;
    const list = openStreams.get(session);
    if (list) list.push(stream);
    else openStreams.set(session, [stream]);
  };
  const sweepStreams = (): void => {
    for (const [session, list] of openStreams) {
      const open = list.filter((s) => !s.closed);
      if (open.length === 0) openStreams.delete(session);
      else if (open.length !== list.length) openStreams.set(session, open);
    }
  };
  const maxHeaderListSize = opts.http2Settings.maxHeaderListSize ?? DEFAULTS.http2Settings.maxHeaderListSize;
  // Every HTTP/2 stream passes here before anything reads it.
  const take = (stream: ServerHttp2Stream, headers: IncomingHttpHeaders, rawHeaders: readonly string[]): boolean => {
    if (headerListSize(rawHeaders) > maxHeaderListSize) {
      answerStream(stream, headTooLarge(headers["content-type"], maxHeaderListSize));
      return true;
    }
    if (memoryGuard) {
      if (
        memoryGuard.pressure !== "normal" &&
        headers[":method"] !== "OPTIONS" &&
        !keepServing?.(headers[":path"] ?? "")
      ) {
        const peer = peerOf(stream.session?.socket);
        onOverload?.({ action: "refused", httpVersion: "2", path: headers[":path"] ?? "", peer });
        answerStream(stream, refuse(headers, peer));
        return true;
      }
      noteStream(stream);
    }
    if (!takeStream?.(stream, headers)) return false;
    streamsTaken++;
    return true;
  };

  if (opts.tls) {
    const { cert, key, clientCa } = opts.tls;
    const clientAuth = clientCa ? { ca: clientCa, requestCert: true, rejectUnauthorized: true } : {};
    const secure = http2.createSecureServer(
      {
        cert,
        key,
        ...clientAuth,
        allowHTTP1: true,
        ALPNProtocols: ["h2", "http/1.1"],
        settings: opts.http2Settings,
        maxHeaderListPairs: opts.maxHeaderFields,
        ...nodeResetOptions(opts),
      },
      handle,
    );
    offerStreamsFirst(secure, take);
    // Counted on the TCP connection, before the TLS handshake spends CPU on it.
    secure.prependListener("connection", (socket: Socket) => perAddress.admit(socket));
    secure.on("secureConnection", (socket: TLSSocket) => trackSocket(socket));
    secure.on("session", trackSession);
    server = secure;
    // With allowHTTP1, Node serves HTTP/1.1 on this server through the http
    // module's own connection code, which reads these same fields; only
    // Node's type definitions lack them.
    http1 = secure as unknown as Http1Controls;
  } else {
    // Node checks headersTimeout only every connectionsCheckingInterval
    // (30 s by default), which would let a slow head linger up to 40 s.
    const h1 = http.createServer(
      { connectionsCheckingInterval: CHECK_INTERVAL_MS, maxHeaderSize: opts.http2Settings.maxHeaderListSize },
      handle,
    );
    const h2 = http2.createServer(
      { settings: opts.http2Settings, maxHeaderListPairs: opts.maxHeaderFields, ...nodeResetOptions(opts) },
      handle,
    );
    offerStreamsFirst(h2, take);
    h2.on("session", trackSession);
    // The HTTP/1.1 server never listens itself, but Node starts its
    // idle/headers timeout bookkeeping on 'listening': without it,
    // closeIdleConnections() and headersTimeout would do nothing.
    h1.emit("listening");
    server = net.createServer({ pauseOnConnect: false }, (socket) => {
      if (!perAddress.admit(socket)) return;
      trackSocket(socket);
      sniffProtocol(
        socket,
        opts.prefaceTimeoutMs,
        (protocol) => {
          if (protocol === "h2") h2Sockets.add(socket);
          (protocol === "h2" ? h2 : h1).emit("connection", socket);
        },
        () => socket.destroy(),
      );
    });
    server.once("close", () => h1.close());
    http1 = h1;
  }
  if (opts.maxConnections > 0) server.maxConnections = opts.maxConnections;
  // One more than allowed, so that a request over the limit shows in rawHeaders (see handle).
  http1.maxHeadersCount = opts.maxHeaderFields + 1;
  http1.keepAliveTimeout = opts.keepAliveTimeoutMs;
  http1.headersTimeout = opts.headersTimeoutMs;
  http1.requestTimeout = opts.requestTimeoutMs;

  /**
   * Closes the connection that holds the most. For memory: bytes waiting
   * for a client that does not read, open streams, and unfinished request
   * bytes; for the request budget: its unfinished request bytes alone.
   */
  const closeHeaviest = (why: OverloadReason): void => {
    const memory = why === "memory";
    let heaviest: { close(): void; heldBytes: number; httpVersion: "1.1" | "2"; peer: string } | undefined;
    for (const session of sessions) {
      let heldBytes = requestBudget?.heldBy(session) ?? 0;
      if (memory) {
        for (const stream of openStreams.get(session) ?? []) {
          if (!stream.closed) heldBytes += STREAM_WEIGHT_BYTES + stream.writableLength;
        }
        if (session.socket) heldBytes += session.socket.writableLength;
      }
      if (!heaviest || heldBytes > heaviest.heldBytes) {
        heaviest = {
          heldBytes,
          httpVersion: "2",
          peer: peerOf(session.socket as Socket | undefined),
          close: () => session.destroy(undefined, http2.constants.NGHTTP2_ENHANCE_YOUR_CALM),
        };
      }
    }
    for (const socket of sockets) {
      if (socket.destroyed || h2Sockets.has(socket) || (socket as TLSSocket).alpnProtocol === "h2") continue;
      const heldBytes = (requestBudget?.heldBy(socket) ?? 0) + (memory ? socket.writableLength : 0);
      if (!heaviest || heldBytes > heaviest.heldBytes) {
        heaviest = { heldBytes, httpVersion: "1.1", peer: peerOf(socket), close: () => socket.destroy() };
      }
    }
    if (!heaviest || heaviest.heldBytes === 0) return;
    heaviest.close();
    onOverload?.({
      action: "closed",
      why,
      httpVersion: heaviest.httpVersion,
      heldBytes: heaviest.heldBytes,
      peer: heaviest.peer,
    });
  };
  // Freed memory shows only after V8 collects it, and a closed connection's
  // budget after its streams close: give it time before judging that one
  // more connection must go.
  let lastClose = 0;
  const shedHeaviest = (why: OverloadReason): void => {
    if (Date.now() - lastClose < CRITICAL_CLOSE_INTERVAL_MS) return;
    lastClose = Date.now();
    closeHeaviest(why);
  };
  if (memoryGuard) {
    const sweeper = setInterval(sweepStreams, SWEEP_MS);
    sweeper.unref();
    server.once("close", () => clearInterval(sweeper));
    memoryGuard.onCritical(() => shedHeaviest("memory"));
  }

  async function drain(graceMs: number): Promise<void> {
    if (!draining) {
      draining = true;
      if (server.listening) server.close();
      for (const session of sessions) session.close();
      for (const socket of sockets) {
        const response = latestResponse.get(socket);
        if (response && !response.headersSent) response.shouldKeepAlive = false;
      }
    }
    const deadline = Date.now() + graceMs;
    while (sockets.size > 0 && Date.now() < deadline) {
      http1.closeIdleConnections();
      await new Promise((resolve) => setTimeout(resolve, Math.min(DRAIN_POLL_MS, deadline - Date.now())));
    }
    for (const socket of sockets) socket.destroy();
  }

  return {
    server,
    get draining() {
      return draining;
    },
    get streamsTaken() {
      return streamsTaken;
    },
    shedHeaviest,
    drain,
  };
}

/**
 * A head's size as SETTINGS_MAX_HEADER_LIST_SIZE counts it (RFC 9113
 * §6.5.2: each field's name and value, plus 32): the decoded size, which
 * HTTP/1.1's limit counts too. Node's own check counts what arrived on the
 * wire, HPACK-compressed, so a 20 KB head of compressible text passed it.
 */
function headerListSize(rawHeaders: readonly string[]): number {
  // The raw list (name, value, name, value…): an array walk, cheaper than
  // the headers object's keys, and repeated fields count each time.
  let size = 16 * rawHeaders.length;
  for (let i = 0; i < rawHeaders.length; i++) size += (rawHeaders[i] as string).length;
  return size;
}

/**
 * The answer to a head over the limit: 431, which a gRPC client would read
 * as UNKNOWN, so gRPC and gRPC-Web get RESOURCE_EXHAUSTED in a
 * Trailers-Only answer instead, as grpc-go answers too large a head.
 */
function headTooLarge(contentType: string | undefined, limit: number): Refusal {
  const message = `the request head is larger than ${limit} bytes`;
  if (contentType?.startsWith("application/grpc")) {
    return {
      status: 200,
      headers: { "content-type": contentType, "grpc-status": "8", "grpc-message": encodeURIComponent(message) },
    };
  }
  return { status: 431, headers: { "content-type": "text/plain; charset=utf-8" }, body: `${message}\n` };
}

/** Answers a stream at once, without reading its request, and stops the client sending it. */
function answerStream(stream: ServerHttp2Stream, answer: Refusal): void {
  stream.on("error", () => {});
  stream.respond({ ":status": answer.status, ...answer.headers }, { endStream: answer.body === undefined });
  if (answer.body !== undefined) stream.end(answer.body);
  stream.close(http2.constants.NGHTTP2_NO_ERROR);
}

type StreamListener = (stream: ServerHttp2Stream, headers: IncomingHttpHeaders, ...rest: unknown[]) => void;

/**
 * Puts `take` in front of Node's compatibility API on an HTTP/2 server.
 * Node implements that API as a 'stream' listener of its own, added with
 * the first 'request' listener; it is moved behind `take`, and gets the
 * streams `take` leaves. Should a Node version do it differently (not
 * exactly one 'stream' listener), every stream goes the usual way.
 */
function offerStreamsFirst(
  server: http2.Http2Server | http2.Http2SecureServer,
  take: (stream: ServerHttp2Stream, headers: IncomingHttpHeaders, rawHeaders: readonly string[]) => boolean,
): void {
  const listeners = server.listeners("stream") as StreamListener[];
  const [compatibility] = listeners;
  if (listeners.length !== 1 || !compatibility) return;
  server.removeListener("stream", compatibility);
  // Named parameters, not a rest array: this runs for every stream.
  server.on(
    "stream",
    (stream: ServerHttp2Stream, headers: IncomingHttpHeaders, flags: number, rawHeaders: string[]) => {
      // The compatibility request shares `headers`.
      keepRepeatedAuthorization(headers, rawHeaders);
      if (!take(stream, headers, rawHeaders)) compatibility.call(server, stream, headers, flags, rawHeaders);
    },
  );
}
