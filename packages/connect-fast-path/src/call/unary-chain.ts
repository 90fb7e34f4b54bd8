import { create, type DescMethodUnary, isMessage, type Message } from "@bufbuild/protobuf";
import {
  Code,
  ConnectError,
  createContextKey,
  type HandlerContext,
  type Interceptor,
  type StreamRequest,
  type StreamResponse,
  type UnaryRequest,
  type UnaryResponse,
} from "@connectrpc/connect";
import type { CallInfoKey } from "../call-info.js";
import type { CallContext } from "./context.js";
import { type CallStart, FastCallInfo } from "./fast-call-info.js";
import { applyInterceptors, callState, copyHeaders, handlerContext } from "./interceptor-chain.js";

/** One unary method and the function that implements it. */
export interface UnaryRoute {
  method: DescMethodUnary;
  impl: (request: never, context: HandlerContext) => unknown;
}

/** A unary call as the protocol code hands it over, with its way to encode the answer. */
export interface Invocation extends CallStart {
  /** Serializes the response as the protocol sends it (throwing, e.g., if it is over the size limit). */
  encode: (message: Message) => Uint8Array;
}

/**
 * Runs a call through the interceptors and the implementation: the encoded
 * response, or a promise of it. Without interceptors, a synchronous
 * implementation's answer comes back as it is, so that the call is answered
 * in the same tick, without a promise.
 */
export type UnaryInvoker = (invocation: Invocation) => Uint8Array | Promise<Uint8Array>;

/**
 * The request the chain starts with, and what its two ends share: the
 * invocation, and the answer the innermost step encoded. A class, not an
 * object literal with getters, so every call's request has one shape.
 */
class FastUnaryRequest implements UnaryRequest {
  readonly stream = false as const;
  readonly message: Message;
  readonly method: DescMethodUnary;
  readonly service: DescMethodUnary["parent"];
  readonly requestMethod: string;
  readonly url: string;
  readonly header: Headers;
  readonly contextValues: CallContext["values"];
  /** The response as the innermost step made it: if the chain returns it unchanged, its headers are the context's. */
  response: FastUnaryResponse | undefined;
  encodedMessage: Message | undefined;
  encodedBody: Uint8Array | undefined;

  constructor(
    readonly invocation: Invocation,
    method: DescMethodUnary,
  ) {
    const { context } = invocation;
    this.message = invocation.request as Message;
    this.method = method;
    this.service = method.parent;
    this.requestMethod = context.requestMethod;
    this.url = context.url;
    this.header = context.requestHeader;
    this.contextValues = context.values;
  }

  /** Made only if an interceptor looks at it. */
  get signal(): AbortSignal {
    return this.invocation.context.signal;
  }
}

/** The innermost step's response; its Headers are made only if an interceptor touches them. */
class FastUnaryResponse implements UnaryResponse {
  readonly stream = false as const;
  readonly service: DescMethodUnary["parent"];

  constructor(
    readonly message: Message,
    readonly method: DescMethodUnary,
    private readonly context: CallContext,
  ) {
    this.service = method.parent;
  }

  get header(): Headers {
    return this.context.responseHeader;
  }

  get trailer(): Headers {
    return this.context.responseTrailer;
  }
}

const invocationKey = createContextKey<FastUnaryRequest | undefined>(undefined);

/**
 * The same interceptors as the Connect router's, run with connect's own
 * `applyInterceptors` around a method's implementation. Interceptors see a
 * standard UnaryRequest and UnaryResponse; the response is encoded inside
 * the chain, so errors there (a message over the limit) pass through the
 * interceptors like any other, and the outer ones know the bytes sent.
 * Without interceptors a call costs no more than the implementation.
 */
export function createUnaryInvoker(
  route: UnaryRoute,
  interceptors: readonly Interceptor[],
  callInfoKey: CallInfoKey | undefined,
): UnaryInvoker {
  const { method } = route;
  const normalize = (result: unknown): Message =>
    isMessage(result, method.output) ? result : create(method.output, result as Parameters<typeof create>[1]);

  // Promise callbacks rather than async functions throughout: on Node 24 an
  // async layer with an await cost about 5% of a unary call (the bench,
  // side by side), and a synchronous implementation (Greet's) needs none.
  if (interceptors.length === 0) {
    return ({ context, request, encode }) => {
      try {
        const result = route.impl(request as never, context);
        if (isThenable(result)) return Promise.resolve(result).then((value) => encode(normalize(value)));
        return encode(normalize(result));
      } catch (e) {
        return Promise.reject(e);
      }
    };
  }

  const answered = (state: FastUnaryRequest, req: UnaryRequest | StreamRequest, result: unknown): UnaryResponse => {
    const { context } = state.invocation;
    const message = normalize(result);
    const body = state.invocation.encode(message);
    state.encodedMessage = message;
    state.encodedBody = body;
    const info = callInfoKey && req.contextValues.get(callInfoKey);
    if (info) info.bytesOut = body.byteLength;
    state.response = new FastUnaryResponse(message, method, context);
    return state.response;
  };
  const innermost = (req: UnaryRequest | StreamRequest): Promise<UnaryResponse> => {
    try {
      const state = callState(req, invocationKey);
      const { context } = state.invocation;
      const result = route.impl(req.message as never, req === state ? context : handlerContext(context, req));
      if (isThenable(result)) return Promise.resolve(result).then((value) => answered(state, req, value));
      return Promise.resolve(answered(state, req, result));
    } catch (e) {
      return Promise.reject(e);
    }
  };
  const chain = applyInterceptors(innermost, interceptors);

  return (invocation) => {
    const { context } = invocation;
    const request = new FastUnaryRequest(invocation, method);
    context.values.set(invocationKey, request);
    if (callInfoKey) context.values.set(callInfoKey, new FastCallInfo(invocation));
    let pending: Promise<UnaryResponse | StreamResponse>;
    try {
      pending = chain(request);
    } catch (e) {
      return Promise.reject(e);
    }
    return pending.then((res) => {
      if (res.stream) throw new ConnectError("an interceptor answered a unary call with a stream", Code.Internal);
      // Only a response an interceptor rebuilt needs its headers copied (reading ours would make them).
      if (res !== request.response) {
        copyHeaders(res.header, context.responseHeader);
        copyHeaders(res.trailer, context.responseTrailer);
      }
      return request.encodedBody !== undefined && request.encodedMessage === res.message
        ? request.encodedBody
        : invocation.encode(res.message);
    });
  };
}

/** What `await` would wait for: a promise, or any object with a `then` method. */
function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof value === "object" && value !== null && typeof (value as { then?: unknown }).then === "function";
}
