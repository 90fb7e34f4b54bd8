import { type DescMethodServerStreaming, type Message, toBinary, toJsonString } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { connectVersionRequired } from "../protocol-connect/protocol-version.js";
import { corsHeaders } from "../wire/cors.js";
import {
  endStreamFrame,
  envelope,
  GRPC_CONTENT_TYPE,
  GRPC_WEB_CONTENT_TYPE,
  parseSingleEnvelope,
  setErrorTrailer,
  trailerFrame,
} from "../wire/envelopes.js";
import { type FastRequest, type FastResponse, outgoing, peerOf } from "../wire/exchange.js";
import { RawHttp2Response } from "../wire/raw-http2-exchange.js";
import type { ResponseEncoding } from "../wire/response-compression.js";
import { WRITES_PER_TURN } from "../wire/take-turns.js";
import { type CallContext, createCallContext, type InflightCalls } from "./context.js";
import { type CallLimits, checkWriteSize } from "./limits.js";
import { readEnvelopedBody } from "./read-body.js";
import { reportRefusal } from "./refusal.js";
import { type GatedCall, passGate } from "./request-gate.js";
import { plainPostRoute } from "./routes.js";
import {
  createServerStreamInvoker,
  type OpenStream,
  type ServerStreamInvoker,
  type ServerStreamRoute,
} from "./server-stream-chain.js";
import { parseRequestTimeout, type TimeoutHeader } from "./timeouts.js";

/** What differs between the protocols on a server stream. */
interface StreamProtocol {
  name: "grpc" | "grpc-web" | "connect";
  /** The request header naming the request's compression, and the one listing what the client accepts. */
  encodingHeader: "grpc-encoding" | "connect-content-encoding";
  acceptEncodingHeader: "grpc-accept-encoding" | "connect-accept-encoding";
  timeoutHeader: TimeoutHeader;
  /** Messages as JSON (Connect's `+json`) instead of binary. */
  json: boolean;
  /** The flag of an envelope that ends the stream (no message), if the protocol has one. */
  endFlag?: number;
  /** The response's content type, as connect-node names it (whatever the request's case or charset). */
  responseType: string;
}

const GRPC: StreamProtocol = {
  name: "grpc",
  responseType: "application/grpc+proto",
  encodingHeader: "grpc-encoding",
  acceptEncodingHeader: "grpc-accept-encoding",
  timeoutHeader: "grpc-timeout",
  json: false,
};
const GRPC_WEB: StreamProtocol = {
  ...GRPC,
  name: "grpc-web",
  responseType: "application/grpc-web+proto",
  endFlag: 0x80,
};
const CONNECT: StreamProtocol = {
  name: "connect",
  responseType: "application/connect+proto",
  endFlag: 0x02,
  encodingHeader: "connect-content-encoding",
  acceptEncodingHeader: "connect-accept-encoding",
  timeoutHeader: "connect-timeout-ms",
  json: false,
};
const CONNECT_JSON: StreamProtocol = { ...CONNECT, json: true, responseType: "application/connect+json" };
// connect-es's own test: a charset only after json (one optional space), any case.
const CONNECT_STREAM_CONTENT_TYPE = /^application\/connect\+(?:(json)(?:; ?charset=utf-?8)?|proto)$/i;

/** The protocol of a request this path could serve, by its content type; gRPC proper only on a raw HTTP/2 stream. */
function protocolOf(req: FastRequest, res: FastResponse, contentType: string): StreamProtocol | undefined {
  if (GRPC_WEB_CONTENT_TYPE.test(contentType)) return GRPC_WEB;
  // gRPC proper needs HTTP/2 trailers, which this path sends on a raw stream only.
  if (GRPC_CONTENT_TYPE.test(contentType)) return res instanceof RawHttp2Response ? GRPC : undefined;
  const connect = CONNECT_STREAM_CONTENT_TYPE.exec(contentType);
  if (!connect) return undefined;
  const version = req.headers["connect-protocol-version"];
  if (version !== undefined && version !== "1") return undefined;
  return connect[1] === undefined ? CONNECT : CONNECT_JSON;
}

/** Whether the router serves the protocol (a call of one switched off is handed on, for connect-node to refuse). */
function served(protocol: StreamProtocol, options: CallLimits): boolean {
  const { protocols } = options;
  return protocol.name === "grpc"
    ? protocols.grpc
    : protocol.name === "grpc-web"
      ? protocols.grpcWeb
      : protocols.connect;
}

interface PreparedStreamRoute {
  method: DescMethodServerStreaming;
  invoke: ServerStreamInvoker;
}

/**
 * Server-streaming calls (gRPC, gRPC-Web, Connect), answered without
 * connect-node.
 *
 * connect-node passes every message of a stream through its pipeline: an
 * async generator each for serializing, compressing, joining and catching
 * errors, then a promise with its listeners per write. In a profile of
 * GreetStream that plumbing and the garbage it leaves were a third of the
 * time. Here each message is encoded and written as it comes from the
 * implementation (through the interceptors), and the loop waits only when
 * the stream's buffer is full.
 *
 * It takes gRPC proper on HTTP/2 streams the one-port server hands over
 * (raw-http2-exchange.ts); binary gRPC-Web over HTTP/1.1 or HTTP/2 (the
 * status then goes in a last frame of the body); and Connect streams,
 * binary or JSON, over either (the error and trailers in Connect's
 * end-of-stream frame); each with an uncompressed request. gRPC-Web's text
 * mode and compressed requests stay with connect-node. Responses are
 * compressed as connect-node does: the encoding is chosen once from what
 * the client accepts, and only messages of at least `compressMinBytes` are
 * compressed.
 */
export function createServerStreamFastPath(
  routes: readonly ServerStreamRoute[],
  options: CallLimits,
  inflight: InflightCalls,
) {
  const byPath = new Map<string, PreparedStreamRoute>(
    routes.map((r) => [
      `/${r.method.parent.typeName}/${r.method.name}`,
      { method: r.method, invoke: createServerStreamInvoker(r, options.interceptors, options.callInfoKey) },
    ]),
  );

  /** Takes the call if it is one this path serves; returns whether it did. */
  function handle(req: FastRequest, res: FastResponse): boolean {
    const contentType = req.headers["content-type"] ?? "";
    const protocol = protocolOf(req, res, contentType);
    if (!protocol || !served(protocol, options)) return false;
    const route = plainPostRoute(byPath, req, protocol.encodingHeader);
    if (!route) return false;
    const cors = corsHeaders(req.headers, options.cors);
    if (!cors) return false;
    const encoding = options.responseEncodings.choose(req.headers[protocol.acceptEncodingHeader]);
    const head: Record<string, string> = { ...cors, "content-type": protocol.responseType };
    if (encoding) head[protocol.encodingHeader] = encoding.name;

    const framing = { head, protocol, encoding, options, method: route.method };
    const contextFor = (gated: GatedCall | undefined, timeoutMs: number | undefined): CallContext =>
      gated?.context ??
      createCallContext({
        method: route.method,
        protocolName: protocol.name,
        requestMethod: "POST",
        url: req.url ?? "",
        timeoutMs,
        requestHeaders: req.headers,
        inflight,
      });
    /** Ends a call refused before the interceptors, reported, with what the report adds. */
    const refuse = (context: CallContext, error: ConnectError, gated: GatedCall | undefined): void => {
      // In the head, but for gRPC, whose Trailers-Only answer is one frame.
      const metadata = protocol.name === "grpc" ? context.responseTrailer : context.responseHeader;
      reportRefusal(options, req, protocol.name, error, metadata);
      gated?.stopWatching();
      new ServerStreamCall(res, context, framing).end(error);
      context.finish();
    };
    const begin = (gated?: GatedCall): void => {
      if (
        protocol.name === "connect" &&
        options.requireConnectProtocolHeader &&
        !req.headers["connect-protocol-version"]
      ) {
        refuse(contextFor(gated, undefined), connectVersionRequired("header"), gated);
        return;
      }
      readEnvelopedBody(req, options.readMaxBytes, options.requestBudget, (body) => {
        const request =
          body instanceof ConnectError
            ? body
            : parseSingleEnvelope(body, route.method.input, {
                ...options,
                methodKind: "server-streaming",
                json: protocol.json,
                endFlag: protocol.endFlag,
              });
        const timeout =
          gated?.timeout ??
          parseRequestTimeout(protocol.timeoutHeader, req.headers[protocol.timeoutHeader], options.maxTimeoutMs);
        // connect-node raises a bad deadline before it reads a byte of the body: that error comes first.
        const invalid = timeout.error ?? (request instanceof ConnectError ? request : undefined);
        const context = contextFor(gated, invalid ? undefined : timeout.timeoutMs);
        if (invalid) {
          refuse(context, invalid, gated);
          return;
        }
        gated?.stopWatching();
        const call = new ServerStreamCall(res, context, framing);
        // Read now, not when the line is logged: a stream ends when its client
        // cuts the connection too, and Node has let go of the socket by then.
        const peer = peerOf(req);
        const start = {
          context,
          request,
          bytesIn: body instanceof ConnectError ? 0 : body.byteLength,
          peer: () => peer,
        };
        void call.run(() => route.invoke(start));
      });
    };
    const gate = options.requestGate;
    if (gate) {
      passGate(
        gate,
        options,
        inflight,
        { req, res, method: route.method, protocolName: protocol.name, timeoutHeader: protocol.timeoutHeader },
        begin,
        (error, context) => new ServerStreamCall(res, context, framing).end(error),
      );
    } else begin();
    return true;
  }

  return { handle };
}

/** How a call's answer is framed. */
interface Framing {
  /** The response head, without what the implementation and interceptors add. */
  head: Record<string, string>;
  protocol: StreamProtocol;
  encoding: ResponseEncoding | undefined;
  options: CallLimits;
  method: DescMethodServerStreaming;
}

/** The parts of a response the call writes to: an HTTP/2 stream's own, or Node's (HTTP/1.1, HTTP/2 compatibility API). */
type StreamSink = Pick<RawHttp2Response, "headersSent" | "write" | "once" | "removeListener"> & {
  writeHead(status: number, headers: Record<string, string>): unknown;
  addTrailers(trailers: Record<string, string>): void;
  end(body?: Uint8Array): unknown;
};

/**
 * One server-streaming call: pulls the messages, writes them as gRPC
 * envelopes, and ends the stream once with its status in the trailers.
 * A deadline, a client's cancel or the server's shutdown ends the stream at
 * once with that status; the implementation learns it from its signal and
 * stops (its next message, if it sends one anyway, is not sent and its
 * stream is closed).
 */
class ServerStreamCall {
  private ended = false;
  /** The error the call ended with, if it did not end well. */
  private endedWith: ConnectError | undefined;
  private bytesOut = 0;
  private messagesThisTurn = 0;
  /** Resumes a loop waiting for the stream's buffer to drain. */
  private wake: (() => void) | undefined;

  private readonly res: StreamSink;

  constructor(
    private readonly response: FastResponse,
    private readonly context: CallContext,
    private readonly framing: Framing,
  ) {
    this.res = response as StreamSink;
  }

  async run(open: () => Promise<OpenStream>): Promise<void> {
    const { res, context } = this;
    const onClose = (): void => context.abort(new ConnectError("the client cancelled the call", Code.Canceled));
    res.once("close", onClose);
    context.onAbort((reason) => {
      this.end(reason);
      this.wake?.();
    });
    try {
      await this.pump(await open());
    } catch (e) {
      this.end(
        e instanceof ConnectError ? e : new ConnectError("internal error", Code.Internal, undefined, undefined, e),
      );
    } finally {
      res.removeListener("close", onClose);
      context.finish();
    }
  }

  private async pump(stream: OpenStream): Promise<void> {
    const { messages, info } = stream;
    for (;;) {
      // A failure of the implementation or an interceptor rejects here and ends the call (run).
      const result = await messages.next();
      if (result.done === true) {
        this.end(undefined, stream);
        return;
      }
      if (this.ended) {
        // Ended meanwhile (deadline, cancel, shutdown) and the implementation
        // did not stop: stop it with the reason, which the interceptors then
        // record as the client saw it.
        await messages.throw?.(this.endedWith).catch(() => undefined);
        return;
      }
      let frame: Buffer;
      try {
        frame = this.encode(result.value);
      } catch (e) {
        const error = ConnectError.from(e);
        this.end(error);
        // Through the interceptors too, so that they record how the call ended.
        await messages.throw?.(error).catch(() => undefined);
        return;
      }
      if (!this.res.headersSent)
        this.res.writeHead(200, outgoing(this.context.responseHeaderIfSet, { ...this.framing.head }));
      this.bytesOut += frame.byteLength;
      info.bytesOut = this.bytesOut;
      if (!this.res.write(frame)) await this.drained();
      // Node takes about 64 KiB of a stream before a write returns false, and
      // until then each message follows the last in the microtask queue: let
      // the event loop turn now and then, or streams that start together
      // keep every other client (and the memory guard's timer) waiting.
      else if (++this.messagesThisTurn === WRITES_PER_TURN) {
        this.messagesThisTurn = 0;
        await new Promise(setImmediate);
      }
    }
  }

  private encode(message: Message): Buffer {
    const { encoding, options, method, protocol } = this.framing;
    const bytes = protocol.json
      ? Buffer.from(toJsonString(method.output, message, options.jsonOptions))
      : toBinary(method.output, message, options.binaryOptions);
    checkWriteSize(bytes, options.writeMaxBytes);
    if (encoding && bytes.byteLength >= options.compressMinBytes) return envelope(encoding.compress(bytes), true);
    return envelope(bytes, false);
  }

  /** Waits for the stream's buffer to drain, or the call to end. */
  private drained(): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        this.res.removeListener("drain", done);
        this.wake = undefined;
        resolve();
      };
      this.wake = done;
      this.res.once("drain", done);
    });
  }

  /** Ends the call, once: its status, and the trailers the implementation and interceptors set. */
  end(error: ConnectError | undefined, stream?: OpenStream): void {
    if (this.ended) return;
    this.ended = true;
    this.endedWith = error;
    const { res, context } = this;
    const { name } = this.framing.protocol;
    const trailer = (!error && stream?.trailer()) || context.responseTrailer;
    try {
      if (!res.headersSent) res.writeHead(200, outgoing(context.responseHeaderIfSet, { ...this.framing.head }));
      if (name === "connect") {
        // Connect: the error and the trailers as JSON in an end-of-stream frame.
        const { options, encoding } = this.framing;
        res.end(endStreamFrame(trailer, error, options.jsonOptions, encoding, options.compressMinBytes));
        return;
      }
      if (error) setErrorTrailer(trailer, error, name === "grpc-web");
      else trailer.set("grpc-status", "0");
      if (name === "grpc-web") {
        res.end(trailerFrame(trailer, this.framing.encoding, this.framing.options.compressMinBytes));
      } else {
        res.addTrailers(outgoing(trailer, {}));
        const { response } = this;
        if (!res.headersSent && !context.responseHeaderIfSet && response instanceof RawHttp2Response) {
          response.endTrailersOnly();
        } else res.end();
      }
    } catch {
      // A header or trailer Node refuses (one the implementation set): no status can be sent.
      const { response } = this;
      if (response instanceof RawHttp2Response) response.reset();
      else response.destroy();
    }
  }
}
