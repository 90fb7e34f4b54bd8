import { type DescMethodServerStreaming, type Message, toBinary, toJsonString } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { envelope, parseSingleEnvelope } from "../wire/envelopes.js";
import { abandon, type FastRequest, type FastResponse, outgoing, peerOf } from "../wire/exchange.js";
import { RawHttp2Response } from "../wire/raw-http2-exchange.js";
import type { ResponseEncoding } from "../wire/response-compression.js";
import { WRITES_PER_TURN } from "../wire/take-turns.js";
import { type CallContext, createCallContext } from "./context.js";
import type { CallEngine } from "./engine.js";
import { type CallLimits, checkWriteSize } from "./limits.js";
import { readEnvelopedBody } from "./read-body.js";
import { reportRefusal } from "./refusal.js";
import { askGate, GateContext, type GatedCall, reportGateRefusal } from "./request-gate.js";
import type { PreparedStreamRoute } from "./routes.js";
import type { OpenStream } from "./server-stream-chain.js";
import { requestTimeout, type TimeoutHeader } from "./timeouts.js";

/** What differs between the protocols on a server stream: each `protocol-*` folder has its own. */
export interface StreamProtocol {
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
  /** Why the request's headers are refused before its body is read, if the protocol checks them (past the gate). */
  refuseHeaders?(req: FastRequest, limits: CallLimits): ConnectError | undefined;
  /**
   * Ends the response, whose head is set: the status (`error`, or none for
   * success) and the trailers, as the protocol carries them.
   */
  endStream(
    response: FastResponse,
    trailer: Headers,
    error: ConnectError | undefined,
    context: CallContext,
    framing: StreamFraming,
  ): void;
}

/**
 * Serves a server-streaming call (gRPC, gRPC-Web, Connect) that the
 * protocol's handler has taken, without connect-node.
 *
 * connect-node passes every message of a stream through its pipeline: an
 * async generator each for serializing, compressing, joining and catching
 * errors, then a promise with its listeners per write. In a profile of
 * GreetStream that plumbing and the garbage it leaves were a third of the
 * time. Here each message is encoded and written as it comes from the
 * implementation (through the interceptors), and the loop waits only when
 * the stream's buffer is full.
 *
 * Responses are compressed as connect-node does: the encoding is chosen
 * once from what the client accepts, and only messages of at least
 * `compressMinBytes` are compressed.
 */
export function serveServerStream(
  engine: CallEngine,
  req: FastRequest,
  res: FastResponse,
  route: PreparedStreamRoute,
  protocol: StreamProtocol,
  cors: Record<string, string>,
): void {
  const { limits: options, inflight } = engine;
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
  const refuse = (context: CallContext, error: ConnectError): void => {
    // In the head, but for gRPC, whose Trailers-Only answer is one frame.
    const metadata = protocol.name === "grpc" ? context.responseTrailer : context.responseHeader;
    reportRefusal(options, req, protocol.name, error, metadata);
    new ServerStreamCall(res, context, framing).end(error);
    context.finish();
  };
  const begin = (gated?: GatedCall): void => {
    const refused = protocol.refuseHeaders?.(req, options);
    if (refused) {
      refuse(contextFor(gated, undefined), refused);
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
      const timeout = requestTimeout(req.headers, protocol.timeoutHeader, options.maxTimeoutMs, gated);
      // connect-node raises a bad deadline before it reads a byte of the body: that error comes first.
      const invalid = timeout.error ?? (request instanceof ConnectError ? request : undefined);
      const context = contextFor(gated, invalid ? undefined : timeout.timeoutMs);
      if (invalid) {
        refuse(context, invalid);
        return;
      }
      context.start();
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
  if (!gate) {
    begin();
    return;
  }
  const view = new GateContext(options, inflight, req, route.method, protocol.name, protocol.timeoutHeader);
  const refuseAtGate = (error: ConnectError): void => {
    const context = view.context();
    context.finish();
    reportGateRefusal(options, req, protocol.name, error, context);
    new ServerStreamCall(res, context, framing).end(error);
  };
  const verdict = askGate(gate, view);
  if (verdict === undefined) begin(view.gated());
  else if (verdict instanceof ConnectError) refuseAtGate(verdict);
  else verdict.then((error) => (error ? refuseAtGate(error) : begin(view.gated()))).catch(() => abandon(res));
}

/** How a call's answer is framed. */
export interface StreamFraming {
  /** The response head, without what the implementation and interceptors add. */
  head: Record<string, string>;
  protocol: StreamProtocol;
  encoding: ResponseEncoding | undefined;
  options: CallLimits;
  method: DescMethodServerStreaming;
}

/** The parts of a response the call writes to: an HTTP/2 stream's own, or Node's (HTTP/1.1, HTTP/2 compatibility API). */
export type StreamSink = Pick<RawHttp2Response, "headersSent" | "write" | "once" | "removeListener"> & {
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
    private readonly framing: StreamFraming,
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
      // Begun after the shutdown: ended above with its reason, and the
      // implementation is not run, as for unary calls.
      if (context.abortReason === undefined) await this.pump(await open());
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
    const trailer = (!error && stream?.trailer()) || context.responseTrailer;
    try {
      if (!res.headersSent) res.writeHead(200, outgoing(context.responseHeaderIfSet, { ...this.framing.head }));
      this.framing.protocol.endStream(this.response, trailer, error, context, this.framing);
    } catch {
      // A header or trailer Node refuses (one the implementation set): no status can be sent.
      const { response } = this;
      if (response instanceof RawHttp2Response) response.reset();
      else response.destroy();
    }
  }
}
