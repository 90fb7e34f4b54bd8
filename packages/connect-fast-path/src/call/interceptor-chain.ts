import {
  Code,
  ConnectError,
  type ContextKey,
  type HandlerContext,
  type Interceptor,
  type StreamRequest,
  type StreamResponse,
  type UnaryRequest,
  type UnaryResponse,
} from "@connectrpc/connect";
import type { CallContext } from "./context.js";

/** A step of the interceptor chain, as connect's interceptors see the next one. */
export type ChainStep = (req: UnaryRequest | StreamRequest) => Promise<UnaryResponse | StreamResponse>;

/**
 * The interceptors around `innermost`, the first one outermost: the fold
 * connect's own `applyInterceptors` makes (which it does not export), for
 * unary calls and server streams alike. Made once per method, not per call.
 */
export function applyInterceptors(innermost: ChainStep, interceptors: readonly Interceptor[]): ChainStep {
  let chain = innermost;
  for (const interceptor of [...interceptors].reverse()) chain = interceptor(chain);
  return chain;
}

/**
 * The fast path's state of a call, which the chain's outer end puts in the
 * context values for its inner end: a request an interceptor rebuilt
 * carries the values on, and one that dropped them fails the call.
 */
export function callState<T>(req: UnaryRequest | StreamRequest, key: ContextKey<T | undefined>): T {
  const state = req.contextValues.get(key);
  if (!state) throw new ConnectError("fast path: call state lost by an interceptor", Code.Internal);
  return state;
}

/** The handler sees what the interceptors passed on, as connect-node does, when they rebuilt the request. */
export function handlerContext(context: CallContext, req: UnaryRequest | StreamRequest): HandlerContext {
  // Not a spread of the context: its headers and signal are getters on a
  // class, which a spread leaves out. Comparing the signals would make one;
  // an interceptor that replaced it also rebuilt the request.
  return {
    service: req.service,
    method: context.method,
    protocolName: context.protocolName,
    requestMethod: context.requestMethod,
    url: context.url,
    timeoutMs: context.timeoutMs,
    requestHeader: req.header,
    // An interceptor that spread our request lost its signal (a getter).
    signal: req.signal ?? context.signal,
    values: req.contextValues,
    get responseHeader() {
      return context.responseHeader;
    },
    get responseTrailer() {
      return context.responseTrailer;
    },
  };
}

export function copyHeaders(from: Headers, to: Headers): void {
  if (from === to) return;
  for (const [key, value] of from) to.set(key, value);
}
