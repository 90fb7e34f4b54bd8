import {
  constants,
  type Http2Session,
  type IncomingHttpHeaders,
  type OutgoingHttpHeaders,
  type ServerHttp2Stream,
  sensitiveHeaders,
} from "node:http2";

/**
 * An HTTP/2 request read straight from its stream: the few parts of Node's
 * compatibility API (`Http2ServerRequest`) the fast path uses.
 *
 * Why: the compatibility API wraps every stream in a request (a Readable of
 * its own over the stream) and a response object, a few kilobytes of
 * short-lived objects per call. Under load those were a large part of what
 * the garbage collector had to do for a unary call, and of what it
 * promoted to the old generation (peak RSS).
 */
export class RawHttp2Request {
  readonly httpVersionMajor = 2;
  readonly method: string | undefined;
  readonly url: string | undefined;
  /**
   * The connection, kept from the start: Node lets go of a stream's
   * session when the stream closes, and a call cancelled by its client is
   * logged after that, naming its peer.
   */
  readonly session: Http2Session | undefined;

  constructor(
    readonly stream: ServerHttp2Stream,
    readonly headers: IncomingHttpHeaders,
  ) {
    this.method = headers[":method"];
    this.url = headers[":path"];
    this.session = stream.session;
  }

  get socket() {
    return this.session?.socket;
  }

  on(event: "data", listener: (chunk: Buffer) => void): this {
    this.stream.on(event, listener);
    return this;
  }

  once(event: "end" | "close", listener: () => void): this {
    this.stream.once(event, listener);
    return this;
  }
}

/**
 * The answer to a RawHttp2Request: the parts of Node's `Http2ServerResponse`
 * the fast paths use. A unary answer's head, trailers and body all go out
 * when `end` is called; a stream's head goes with its first `write`. As
 * in the compatibility API, trailers are checked when given (a bad one
 * throws to the caller, not later inside Node's 'wantTrailers' event), and
 * if sending the head throws, nothing counts as sent, so the caller can
 * still answer with an error.
 */
export class RawHttp2Response {
  private status = 200;
  private head: OutgoingHttpHeaders = {};
  private trailers: OutgoingHttpHeaders | undefined;
  private sent = false;
  private ended = false;

  constructor(
    private readonly stream: ServerHttp2Stream,
    private readonly neverIndexed: readonly string[] = [],
  ) {}

  get headersSent(): boolean {
    return this.sent || this.stream.headersSent;
  }

  get destroyed(): boolean {
    return this.stream.destroyed;
  }

  writeHead(status: number, headers: Record<string, string>): this {
    this.status = status;
    this.head = headers;
    return this;
  }

  addTrailers(trailers: Record<string, string>): void {
    for (const name in trailers) checkHeader(name, trailers[name]);
    this.trailers = trailers;
  }

  /** Sends a chunk of the body (the head first, if not sent yet); false when the stream's buffer is full ('drain' follows). */
  write(chunk: Uint8Array): boolean {
    if (this.ended || this.stream.destroyed || this.stream.closed) return false;
    if (!this.sent) this.respond(false, true);
    return this.stream.write(chunk);
  }

  end(body?: Uint8Array): this {
    const { stream, trailers } = this;
    if (this.ended || stream.destroyed || stream.closed) return this;
    // A stream whose head is out already waits for trailers, even none.
    const waitsForTrailers = this.sent || trailers !== undefined;
    if (!this.sent) this.respond(!body && !trailers, trailers !== undefined);
    this.ended = true;
    if (waitsForTrailers) {
      stream.once("wantTrailers", () => {
        try {
          stream.sendTrailers(this.markNeverIndexed(trailers ?? {}));
        } catch {
          // Gone meanwhile (reset by the client): nothing left to tell it.
          stream.close(constants.NGHTTP2_INTERNAL_ERROR);
        }
      });
    }
    if (body || waitsForTrailers) stream.end(body);
    return this;
  }

  /**
   * Ends an answer that has no message in one HEADERS frame, head and
   * trailers together: gRPC's Trailers-Only, for a call whose implementation
   * set no header of its own (one that did gets its head apart, as grpc-go
   * sends it). In two frames, a client still sending a body it declared a
   * content-length for may end the body early on seeing the head (as the
   * conformance suite's Go client did, for a message over the limit);
   * nghttp2 then resets the stream with PROTOCOL_ERROR before the status
   * is out, and the client reports that instead of the status.
   */
  endTrailersOnly(): void {
    if (this.sent || this.ended || this.stream.destroyed || this.stream.closed) return;
    this.head = { ...this.head, ...this.trailers };
    this.ended = true;
    this.respond(true, false);
  }

  /** Ends the stream with an HTTP/2 error, for an answer that cannot be sent. */
  reset(): void {
    if (!this.stream.destroyed) this.stream.close(constants.NGHTTP2_INTERNAL_ERROR);
  }

  once(event: "close" | "drain", listener: () => void): this {
    this.stream.once(event, listener);
    return this;
  }

  removeListener(event: "close" | "drain", listener: () => void): this {
    this.stream.removeListener(event, listener);
    return this;
  }

  private respond(endStream: boolean, waitForTrailers: boolean): void {
    this.head[":status"] = this.status;
    this.stream.respond(this.markNeverIndexed(this.head), { waitForTrailers, endStream });
    this.sent = true;
  }

  /**
   * Why: a header whose value is new on every response (a request id) would
   * otherwise be added to the connection's HPACK table each time, evicting
   * the entries that make the other headers one byte each; sent as a
   * never-indexed literal it costs only its own bytes.
   */
  private markNeverIndexed(headers: OutgoingHttpHeaders): OutgoingHttpHeaders {
    if (this.neverIndexed.length > 0) {
      (headers as Record<symbol, unknown>)[sensitiveHeaders] = this.neverIndexed;
    }
    return headers;
  }
}

/** The checks Node's compatibility API makes on a header it is given. */
function checkHeader(name: string, value: string | undefined): void {
  if (name === "" || name.includes(" ")) throw new TypeError(`invalid header name "${name}"`);
  if (name.startsWith(":")) throw new TypeError(`pseudo-header "${name}" not allowed here`);
  if (value === undefined || value === null) throw new TypeError(`invalid value for header "${name}"`);
}

const ignore = (): void => {};

/**
 * Offers an HTTP/2 stream to `handle` (a fast path) without the
 * compatibility API, if it is a call a fast path could take: a plain POST
 * (Node's compatibility layer answers `expect: 100-continue` and CONNECT).
 * Returns whether `handle` took it. A taken stream's errors (a reset from
 * the client) end its call, never the process: the 'close' that follows is
 * what the call listens to.
 */
export function offerRawStream(
  stream: ServerHttp2Stream,
  headers: IncomingHttpHeaders,
  handle: (req: RawHttp2Request, res: RawHttp2Response) => boolean,
  neverIndexed?: readonly string[],
): boolean {
  if (headers[":method"] !== "POST" || headers.expect !== undefined) return false;
  if (!handle(new RawHttp2Request(stream, headers), new RawHttp2Response(stream, neverIndexed))) return false;
  stream.on("error", ignore);
  return true;
}
