import type { IncomingMessage, ServerResponse } from "node:http";
import type { Http2ServerRequest, Http2ServerResponse } from "node:http2";
import type {
  BinaryReadOptions,
  BinaryWriteOptions,
  DescMethodUnary,
  JsonReadOptions,
  JsonWriteOptions,
  Message,
} from "@bufbuild/protobuf";
import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import type { CallInfoKey } from "../call-info.js";
import type { CorsPolicy } from "../wire/cors.js";
import { messageTooLarge } from "../wire/envelopes.js";
import type { RawHttp2Request, RawHttp2Response } from "../wire/raw-http2-exchange.js";
import type { ResponseEncodings } from "../wire/response-compression.js";
import { type CallContext, createCallContext, type InflightCalls } from "./context.js";
import type { RequestGate } from "./request-gate.js";
import { createUnaryInvoker, type UnaryInvoker, type UnaryRoute } from "./unary-chain.js";

export type { UnaryRoute } from "./unary-chain.js";

/** A unary method ready for the fast path: its implementation behind the interceptors. */
export interface PreparedRoute {
  method: DescMethodUnary;
  invoke: UnaryInvoker;
}

/** What every protocol's handler needs: the same limits and interceptors as the Connect router's. */
export interface CallLimits {
  /** Largest request message. */
  readMaxBytes: number;
  /** Largest response message. */
  writeMaxBytes: number;
  /** Aborts every running call when the server shuts down. */
  shutdownSignal: AbortSignal;
  /** Browser pages allowed to call; calls from other origins are handed on. */
  cors: CorsPolicy;
  /** The server's interceptors, the same as the Connect router's. */
  interceptors: readonly Interceptor[];
  /** Responses at least this long are compressed for clients that accept one of `responseEncodings`. */
  compressMinBytes: number;
  /** The compressions a response may use: the router's `acceptCompression`. */
  responseEncodings: ResponseEncodings;
  /** How messages are read and written, as connect-node's router options say. */
  jsonOptions: Partial<JsonReadOptions & JsonWriteOptions> | undefined;
  binaryOptions: Partial<BinaryReadOptions & BinaryWriteOptions> | undefined;
  /** Counts the request bytes held before their message is whole; none if undefined. */
  requestBudget?: RequestBudget;
  /** Told of each call refused before the interceptors run; see FastPathOptions. */
  onRefused?: (refusal: EarlyRefusal) => Record<string, string> | undefined;
  /** Where each call's CallInfo goes in its context values; nowhere if undefined. */
  callInfoKey?: CallInfoKey;
  /** The longest timeout a client may ask for; a longer one is INVALID_ARGUMENT. */
  maxTimeoutMs: number;
  /** Runs before a call's body is read; see FastPathOptions. */
  requestGate?: RequestGate;
  /** The protocols served: a call of one switched off is handed on, for connect-node to refuse. */
  protocols: { grpc: boolean; grpcWeb: boolean; connect: boolean };
  /** Connect calls must name the protocol version (`connect-protocol-version: 1`, or `connect=v1` in a GET). */
  requireConnectProtocolHeader: boolean;
}

/** A call refused before the interceptors ran: they never see it, so this is its only trace. */
export interface EarlyRefusal {
  /** `/package.Service/Method`. */
  procedure: string;
  protocol: "grpc" | "grpc-web" | "connect";
  error: ConnectError;
  /** The client's address, e.g. `127.0.0.1:53110`. */
  peer: string;
}

/**
 * Reports a call refused before the interceptors, and adds what the
 * report returns (a request id, say) to the answer's `metadata`.
 */
export function reportRefusal(
  options: Pick<CallLimits, "onRefused">,
  req: FastRequest,
  protocol: EarlyRefusal["protocol"],
  error: ConnectError,
  metadata: { set(name: string, value: string): unknown },
): void {
  const extra = options.onRefused?.({
    procedure: (req.url ?? "").split("?")[0] ?? "",
    protocol,
    error,
    peer: peerOf(req),
  });
  if (extra) for (const [name, value] of Object.entries(extra)) metadata.set(name, value);
}

/**
 * Bytes of request messages held before they are whole, counted by
 * connection (an HTTP/1.1 socket or an HTTP/2 session); `@greeter/one-port`'s
 * `createByteBudget` makes one. `hold` returns which budget is spent, or
 * undefined when the bytes fit.
 */
export interface RequestBudget {
  hold(connection: object, bytes: number): "connection" | "total" | undefined;
  release(connection: object, bytes: number): void;
}

/** A request or response of either HTTP version: Node's (the compatibility API for HTTP/2), or an HTTP/2 stream's own. */
export type FastRequest = IncomingMessage | Http2ServerRequest | RawHttp2Request;
export type FastResponse = ServerResponse | Http2ServerResponse | RawHttp2Response;

export function routesByPath(
  routes: readonly UnaryRoute[],
  { interceptors, callInfoKey }: Pick<CallLimits, "interceptors" | "callInfoKey">,
): Map<string, PreparedRoute> {
  return new Map(
    routes.map((r) => [
      `/${r.method.parent.typeName}/${r.method.name}`,
      { method: r.method, invoke: createUnaryInvoker(r, interceptors, callInfoKey) },
    ]),
  );
}

/** The route a POST asks for, if it has no body encoding (compressed calls stay with connect-node). */
export function plainPostRoute<R>(
  byPath: ReadonlyMap<string, R>,
  req: FastRequest,
  encodingHeader: "grpc-encoding" | "content-encoding" | "connect-content-encoding",
): R | undefined {
  if (req.method !== "POST") return undefined;
  const encoding = req.headers[encodingHeader];
  if (encoding !== undefined && encoding !== "identity") return undefined;
  return byPath.get(req.url ?? "");
}

/** The connection a request came on: its HTTP/2 session, or its HTTP/1.1 socket. */
function connectionOf(req: FastRequest): object {
  return "stream" in req ? (req.stream.session ?? req.stream) : req.socket;
}

/** RESOURCE_EXHAUSTED for a request whose bytes do not fit in a budget. */
export function budgetSpent(which: "connection" | "total"): ConnectError {
  return which === "connection"
    ? new ConnectError(
        "this connection has too many unfinished request messages in flight; send fewer large messages at once",
        Code.ResourceExhausted,
      )
    : new ConnectError("the server holds too many unfinished request messages; retry later", Code.ResourceExhausted);
}

/**
 * Bytes a request body may hold before it counts against the request
 * budget. Most calls stay under it (a Greet is a dozen bytes) and never
 * touch the budget; a connection's streams can hold at most this much each
 * uncounted, 16 MiB for 1,000 streams.
 */
const UNCOUNTED_BYTES = 16 * 1024;

/** One request body's share of the request budget, given back once (at its end, or the request's close). */
class BodyHold {
  private held = 0;
  private readonly connection: object;

  constructor(
    req: FastRequest,
    private readonly budget: RequestBudget,
  ) {
    this.connection = connectionOf(req);
    // A client that resets the call mid-message never sends its end.
    req.once("close", () => this.release());
  }

  /** Counts the body at `size` bytes; says which budget is spent if they do not fit (nothing more is counted then). */
  grow(size: number): "connection" | "total" | undefined {
    const spent = this.budget.hold(this.connection, size - this.held);
    if (!spent) this.held = size;
    return spent;
  }

  release(): void {
    if (this.held === 0) return;
    this.budget.release(this.connection, this.held);
    this.held = 0;
  }
}

const joined = (chunks: Buffer[]): Buffer => (chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks));

/**
 * Reads a request body of at most `maxBytes`, then calls `done` once: with
 * the bytes, or with RESOURCE_EXHAUSTED as soon as the limit or a budget is
 * passed.
 */
export function readBody(
  req: FastRequest,
  maxBytes: number,
  budget: RequestBudget | undefined,
  done: (body: Buffer | ConnectError) => void,
): void {
  const chunks: Buffer[] = [];
  let size = 0;
  let over = false;
  let hold: BodyHold | undefined;
  const refuse = (error: ConnectError): void => {
    over = true;
    hold?.release();
    chunks.length = 0;
    done(error);
  };
  req.on("data", (chunk: Buffer) => {
    if (over) return;
    size += chunk.length;
    if (size > maxBytes) return refuse(tooLarge(maxBytes));
    chunks.push(chunk);
    if (budget && size > UNCOUNTED_BYTES) {
      hold ??= new BodyHold(req, budget);
      const spent = hold.grow(size);
      if (spent) refuse(budgetSpent(spent));
    }
  });
  req.once("end", () => {
    if (over) return;
    hold?.release();
    const body = joined(chunks);
    // The stream keeps this listener's closure until it is collected: let
    // the body go with the call, not with the stream.
    chunks.length = 0;
    done(body);
  });
}

/**
 * Reads a body of length-prefixed envelopes, calling `done` once. Like
 * connect-node, it looks at each envelope's declared length as soon as its
 * header is in, and fails with RESOURCE_EXHAUSTED when it is over
 * `readMaxBytes`, however few bytes follow; it stops at the end of a second
 * whole envelope, which is enough for parseSingleEnvelope to refuse it.
 * Past a few KiB, what it holds counts against `budget`.
 */
export function readEnvelopedBody(
  req: FastRequest,
  readMaxBytes: number,
  budget: RequestBudget | undefined,
  done: (body: Buffer | ConnectError) => void,
): void {
  const chunks: Buffer[] = [];
  let size = 0;
  let finished = false;
  let nextHeader = 0;
  let headersSeen = 0;
  let hold: BodyHold | undefined;
  const finish = (result: Buffer | ConnectError): void => {
    if (finished) return;
    finished = true;
    hold?.release();
    // As in readBody: the stream's listener must not keep the body.
    chunks.length = 0;
    done(result);
  };
  req.on("data", (chunk: Buffer) => {
    if (finished) return;
    chunks.push(chunk);
    size += chunk.length;
    while (headersSeen < 2 && nextHeader + 5 <= size) {
      const length = uint32At(chunks, nextHeader + 1);
      if (length > readMaxBytes) {
        finish(messageTooLarge(length, readMaxBytes));
        return;
      }
      nextHeader += 5 + length;
      headersSeen++;
    }
    if (headersSeen === 2 && size >= nextHeader) {
      finish(joined(chunks));
      return;
    }
    if (budget && size > UNCOUNTED_BYTES) {
      hold ??= new BodyHold(req, budget);
      const spent = hold.grow(size);
      if (spent) finish(budgetSpent(spent));
    }
  });
  req.once("end", () => {
    if (!finished) finish(joined(chunks));
  });
}

/** The big-endian uint32 at `offset` of the bytes the chunks hold one after another. */
function uint32At(chunks: readonly Buffer[], offset: number): number {
  const first = chunks[0];
  if (first && offset + 4 <= first.length) return first.readUInt32BE(offset);
  let value = 0;
  for (let i = 0; i < 4; i++) value = value * 256 + byteAt(chunks, offset + i);
  return value;
}

function byteAt(chunks: readonly Buffer[], offset: number): number {
  let at = offset;
  for (const chunk of chunks) {
    if (at < chunk.length) return chunk[at] as number;
    at -= chunk.length;
  }
  return 0;
}

/** RESOURCE_EXHAUSTED for a request message over the limit, as connect-node words it. */
export function tooLarge(maxBytes: number): ConnectError {
  return new ConnectError(`message size is larger than configured readMaxBytes ${maxBytes}`, Code.ResourceExhausted);
}

/** One call, ready to run: what the protocol code parsed from the request. */
export interface UnaryCall {
  req: FastRequest;
  res: FastResponse;
  route: PreparedRoute;
  protocolName: string;
  request: unknown;
  /** Request body bytes read. */
  bytesIn: number;
  /** Serializes the answer as the protocol sends it. */
  encode: (message: Message) => Uint8Array;
  timeoutMs: number | undefined;
  inflight: InflightCalls;
  /** The context the request gate ran with, if there is a gate. */
  context?: CallContext;
}

/**
 * Runs a call: makes its context, calls the interceptors and the
 * implementation, and hands the encoded answer to `answer` — or any failure
 * to `fail`. It fails with the call's
 * abort reason (deadline, client gone, shutdown) if that comes first, and,
 * as connect-node does, turns anything but a ConnectError into INTERNAL
 * "internal error" so that a bug's message stays in the server.
 */
export function runUnaryCall(
  call: UnaryCall,
  answer: (body: Uint8Array, context: CallContext) => void,
  fail: (error: ConnectError, context: CallContext) => void,
): Promise<void> {
  const { req, res, route } = call;
  const context =
    call.context ??
    createCallContext({
      method: route.method,
      protocolName: call.protocolName,
      requestMethod: "POST",
      url: req.url ?? "",
      timeoutMs: call.timeoutMs,
      requestHeaders: req.headers,
      inflight: call.inflight,
    });
  // A client that goes away before the answer cancels the call.
  const onClose = (): void => context.abort(new ConnectError("the client cancelled the call", Code.Canceled));
  res.once("close", onClose);
  const failed = (e: unknown): void => {
    try {
      fail(
        e instanceof ConnectError ? e : new ConnectError("internal error", Code.Internal, undefined, undefined, e),
        context,
      );
    } finally {
      res.removeListener("close", onClose);
      context.finish();
    }
  };
  let invoked: Promise<Uint8Array>;
  try {
    invoked = route.invoke({
      context,
      request: call.request,
      encode: call.encode,
      bytesIn: call.bytesIn,
      peer: () => peerOf(req),
    });
  } catch (e) {
    invoked = Promise.reject(e);
  }
  // Promise callbacks, not an async function: see createUnaryInvoker.
  return untilAborted(invoked, context).then((body) => {
    try {
      answer(body, context);
    } catch (e) {
      failed(e);
      return;
    }
    res.removeListener("close", onClose);
    context.finish();
  }, failed);
}

// One address per connection, worked out on its first call that asks.
const peers = new WeakMap<object, string>();

/**
 * The client's address, `host:port`. For HTTP/2 it is read from the
 * session: a request's `socket` there is a Proxy Node makes per stream, and
 * reading through it cost more per call than the whole log line's fields.
 */
export function peerOf(req: FastRequest): string {
  // Node's compatibility API loses the session when the stream closes; a
  // RawHttp2Request keeps it.
  const session = "session" in req ? req.session : "stream" in req ? req.stream.session : undefined;
  const connection = session ?? req.socket;
  // A stream whose session is already gone: nothing to cache it by.
  if (!connection) return "unknown";
  let peer = peers.get(connection);
  if (peer === undefined) {
    const socket = session ? session.socket : req.socket;
    // A connection already closed may have forgotten the address.
    if (socket?.remoteAddress === undefined) return "unknown";
    peer = `${socket.remoteAddress}:${socket.remotePort}`;
    peers.set(connection, peer);
  }
  return peer;
}

/** Throws RESOURCE_EXHAUSTED if a response message is over the limit. */
export function checkWriteSize(bytes: Uint8Array, writeMaxBytes: number): void {
  if (bytes.length > writeMaxBytes) {
    throw new ConnectError(
      `message size ${bytes.length} is larger than configured writeMaxBytes ${writeMaxBytes}`,
      Code.ResourceExhausted,
    );
  }
}

/** The call's result, or its abort reason (deadline, client gone, shutdown) if that comes first. */
function untilAborted<T>(promise: Promise<T>, context: CallContext): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    context.onAbort(reject);
    promise.then(resolve, reject);
  });
}

/** Adds the entries of a Headers (which win) to a Node header object made for this response, and returns it. */
export function outgoing(headers: Headers | undefined, base: Record<string, string>): Record<string, string> {
  if (headers) for (const [key, value] of headers) base[key] = value;
  return base;
}
