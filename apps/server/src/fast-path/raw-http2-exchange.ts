import { constants, type IncomingHttpHeaders, type OutgoingHttpHeaders, type ServerHttp2Stream } from "node:http2";

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

  constructor(
    readonly stream: ServerHttp2Stream,
    readonly headers: IncomingHttpHeaders,
  ) {
    this.method = headers[":method"];
    this.url = headers[":path"];
  }

  get socket() {
    return this.stream.session?.socket;
  }

  on(event: "data", listener: (chunk: Buffer) => void): this {
    this.stream.on(event, listener);
    return this;
  }

  once(event: "end", listener: () => void): this {
    this.stream.once(event, listener);
    return this;
  }
}

/**
 * The answer to a RawHttp2Request: the parts of Node's `Http2ServerResponse`
 * the fast path uses. The fast path always writes the head, the trailers
 * and the body together, so all of it goes out when `end` is called. As
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

  constructor(private readonly stream: ServerHttp2Stream) {}

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

  end(body?: Uint8Array): this {
    const { stream, trailers } = this;
    if (this.sent || stream.destroyed || stream.closed) return this;
    this.head[":status"] = this.status;
    stream.respond(this.head, { waitForTrailers: trailers !== undefined, endStream: !body && !trailers });
    this.sent = true;
    if (trailers) {
      stream.once("wantTrailers", () => {
        try {
          stream.sendTrailers(trailers);
        } catch {
          // Gone meanwhile (reset by the client): nothing left to tell it.
          stream.close(constants.NGHTTP2_INTERNAL_ERROR);
        }
      });
    }
    if (body || trailers) stream.end(body);
    return this;
  }

  once(event: "close", listener: () => void): this {
    this.stream.once(event, listener);
    return this;
  }

  removeListener(event: "close", listener: () => void): this {
    this.stream.removeListener(event, listener);
    return this;
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
): boolean {
  if (headers[":method"] !== "POST" || headers.expect !== undefined) return false;
  if (!handle(new RawHttp2Request(stream, headers), new RawHttp2Response(stream))) return false;
  stream.on("error", ignore);
  return true;
}
