import { create, type DescMethodServerStreaming, isMessage, type Message } from "@bufbuild/protobuf";
import {
  Code,
  ConnectError,
  createContextKey,
  type HandlerContext,
  type Interceptor,
  type StreamRequest,
  type StreamResponse,
  type UnaryRequest,
} from "@connectrpc/connect";
import type { CallInfoKey } from "../call-info.js";
import type { CallContext } from "./context.js";
import { type CallStart, FastCallInfo } from "./fast-call-info.js";
import { applyInterceptors, callState, copyHeaders, handlerContext } from "./interceptor-chain.js";

/** One server-streaming method and the function that implements it. */
export interface ServerStreamRoute {
  method: DescMethodServerStreaming;
  impl: (request: never, context: HandlerContext) => AsyncIterable<unknown>;
}

/**
 * A server-streaming call past its interceptors: the response messages to
 * send. The header to send is the context's (an interceptor's own is
 * copied there); the trailer is read once the messages are over.
 */
export interface OpenStream {
  /** The messages, pulled one at a time by the protocol code. */
  messages: AsyncIterator<Message>;
  /** The trailer to send once the messages are over. */
  trailer(): Headers | undefined;
  /** What the protocol code tells the interceptors about the bytes it wrote. */
  info: FastCallInfo;
}

/** Runs a server-streaming call through the interceptors up to the implementation's stream of answers. */
export type ServerStreamInvoker = (start: CallStart) => Promise<OpenStream>;

/**
 * The request the chain starts with: the one message as a stream, as
 * connect's StreamRequest has it. Every field is its own property, signal
 * included: interceptors of streams spread the request (and the response)
 * to replace its messages, and a spread drops a class's getters.
 */
class FastStreamRequest implements StreamRequest {
  readonly stream = true as const;
  readonly message: AsyncIterable<Message>;
  readonly service: DescMethodServerStreaming["parent"];
  readonly requestMethod: string;
  readonly url: string;
  readonly header: Headers;
  readonly signal: AbortSignal;
  readonly contextValues: CallContext["values"];
  /** The response as the innermost step made it: if the chain returns it unchanged, its headers are the context's. */
  response: StreamResponse | undefined;

  constructor(
    readonly start: CallStart,
    readonly method: DescMethodServerStreaming,
  ) {
    const { context } = start;
    this.message = oneMessage(start.request as Message);
    this.service = method.parent;
    this.requestMethod = context.requestMethod;
    this.url = context.url;
    this.header = context.requestHeader;
    this.signal = context.signal;
    this.contextValues = context.values;
  }
}

const requestKey = createContextKey<FastStreamRequest | undefined>(undefined);

/**
 * The server-streaming counterpart of createUnaryInvoker (unary-chain.ts):
 * the same interceptors, with connect's fold, around the implementation.
 * Interceptors see a standard StreamRequest (the one request message as a
 * stream) and StreamResponse. As in connect-node, what the implementation
 * yields is made a message of the output type if it is not one already,
 * and an interceptor's own response headers replace the context's.
 */
export function createServerStreamInvoker(
  route: ServerStreamRoute,
  interceptors: readonly Interceptor[],
  callInfoKey: CallInfoKey | undefined,
): ServerStreamInvoker {
  const { method } = route;
  const answers = (request: Message, context: HandlerContext) =>
    normalized(route.impl(request as never, context), method);

  const innermost = async (req: UnaryRequest | StreamRequest): Promise<StreamResponse> => {
    const state = callState(req, requestKey);
    if (!req.stream) throw new ConnectError("an interceptor made a streaming call unary", Code.Internal);
    const { context } = state.start;
    const request = await singleMessage(req.message);
    state.response = {
      stream: true,
      service: method.parent,
      method,
      header: context.responseHeader,
      trailer: context.responseTrailer,
      message: answers(request, req === state ? context : handlerContext(context, req)),
    };
    return state.response;
  };
  const chain = applyInterceptors(innermost, interceptors);

  return async (start) => {
    const { context } = start;
    const info = new FastCallInfo(start);
    // The protocol code adds each message's bytes as it writes it.
    info.bytesOut = 0;
    if (interceptors.length === 0) {
      const messages = answers(start.request as Message, context);
      return { messages, trailer: () => context.responseTrailerIfSet, info };
    }
    const request = new FastStreamRequest(start, method);
    context.values.set(requestKey, request);
    if (callInfoKey) context.values.set(callInfoKey, info);
    const res = await chain(request);
    if (!res.stream) throw new ConnectError("an interceptor answered a streaming call with one message", Code.Internal);
    const messages = res.message[Symbol.asyncIterator]() as AsyncIterator<Message>;
    if (res === request.response) {
      return { messages, trailer: () => context.responseTrailerIfSet, info };
    }
    // As connect-node does: an interceptor's response carries the headers to send.
    copyHeaders(res.header, context.responseHeader);
    return {
      messages,
      trailer: () => {
        copyHeaders(res.trailer, context.responseTrailer);
        return context.responseTrailer;
      },
      info,
    };
  };
}

/** The request stream of a server-streaming call: one message. */
async function* oneMessage(message: Message): AsyncIterable<Message> {
  yield message;
}

/** The one message of a request stream, which an interceptor may have replaced, with connect-node's errors. */
async function singleMessage(messages: AsyncIterable<unknown>): Promise<Message> {
  const it = messages[Symbol.asyncIterator]();
  const first = await it.next();
  if (first.done === true) {
    throw new ConnectError("protocol error: missing input message for server-streaming method", Code.Unimplemented);
  }
  const second = await it.next();
  if (second.done !== true) {
    throw new ConnectError(
      "protocol error: received extra input message for server-streaming method",
      Code.Unimplemented,
    );
  }
  return first.value as Message;
}

/**
 * The implementation's answers as messages of the output type. An iterator
 * object, not an async generator: a generator would add a suspension and
 * its promises to every message; this adds one `then`.
 */
function normalized(
  answers: AsyncIterable<unknown>,
  method: DescMethodServerStreaming,
): AsyncIterableIterator<Message> {
  const it = answers[Symbol.asyncIterator]();
  const schema = method.output;
  const toMessage = (result: IteratorResult<unknown>): IteratorResult<Message> =>
    result.done === true || isMessage(result.value, schema)
      ? (result as IteratorResult<Message>)
      : { done: false, value: create(schema, result.value as Parameters<typeof create>[1]) };
  return {
    next: () => it.next().then(toMessage),
    return: (value?: unknown) =>
      it.return ? it.return(value).then(toMessage) : Promise.resolve({ done: true, value }),
    throw: (error?: unknown) => (it.throw ? it.throw(error).then(toMessage) : Promise.reject(error)),
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}
