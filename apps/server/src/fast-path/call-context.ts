import type { IncomingHttpHeaders } from "node:http2";
import type { DescMethodUnary } from "@bufbuild/protobuf";
import { Code, ConnectError, type ContextValues, createContextValues, type HandlerContext } from "@connectrpc/connect";

/**
 * The calls in flight on the fast path. Shutdown aborts them through this
 * one list, instead of every call adding a listener to the shutdown signal.
 */
export class InflightCalls {
  private readonly calls = new Set<AbortController>();
  private shutdownReason: unknown;

  constructor(shutdownSignal: AbortSignal) {
    shutdownSignal.addEventListener(
      "abort",
      () => {
        this.shutdownReason = shutdownSignal.reason;
        for (const call of this.calls) call.abort(shutdownSignal.reason);
      },
      { once: true },
    );
  }

  add(call: AbortController): void {
    if (this.shutdownReason !== undefined) call.abort(this.shutdownReason);
    this.calls.add(call);
  }

  delete(call: AbortController): void {
    this.calls.delete(call);
  }
}

export interface CallContext extends HandlerContext {
  /** Ends the call's deadline and the handler's signal, e.g. when the client cancels. */
  abort(reason: unknown): void;
  /** The call is answered: drop its timer and its place in the in-flight list, without firing the signal. */
  finish(): void;
  /** Whether the handler touched the response headers or trailers (so they must be sent). */
  readonly responseHeaderIfSet: Headers | undefined;
  readonly responseTrailerIfSet: Headers | undefined;
}

export interface CallContextInit {
  method: DescMethodUnary;
  protocolName: string;
  requestMethod: string;
  url: string;
  timeoutMs: number | undefined;
  requestHeaders: IncomingHttpHeaders;
  inflight: InflightCalls;
}

/**
 * A HandlerContext with what connect's `createHandlerContext` gives, built
 * for one unary call at a time: one AbortController (connect links three),
 * a timer only when there is a deadline, and the Headers objects made only
 * if the handler asks for them. In a profile of the fast path the abort
 * signal plumbing alone was 15% of the CPU.
 */
export function createCallContext(init: CallContextInit): CallContext {
  const controller = new AbortController();
  init.inflight.add(controller);
  let timer: NodeJS.Timeout | undefined;
  let deadline: number | undefined;
  if (init.timeoutMs !== undefined) {
    deadline = Date.now() + init.timeoutMs;
    timer = setTimeout(
      () => controller.abort(new ConnectError("the operation timed out", Code.DeadlineExceeded)),
      init.timeoutMs,
    );
  }
  let requestHeader: Headers | undefined;
  let responseHeader: Headers | undefined;
  let responseTrailer: Headers | undefined;
  let values: ContextValues | undefined;
  const finish = (): void => {
    clearTimeout(timer);
    init.inflight.delete(controller);
  };

  return {
    service: init.method.parent,
    method: init.method,
    protocolName: init.protocolName,
    requestMethod: init.requestMethod,
    url: init.url,
    signal: controller.signal,
    timeoutMs: () => (deadline === undefined ? undefined : deadline - Date.now()),
    get requestHeader() {
      requestHeader ??= toHeaders(init.requestHeaders);
      return requestHeader;
    },
    get responseHeader() {
      responseHeader ??= new Headers();
      return responseHeader;
    },
    get responseTrailer() {
      responseTrailer ??= new Headers();
      return responseTrailer;
    },
    get values() {
      values ??= createContextValues();
      return values;
    },
    get responseHeaderIfSet() {
      return responseHeader;
    },
    get responseTrailerIfSet() {
      return responseTrailer;
    },
    abort(reason) {
      finish();
      controller.abort(reason);
    },
    finish,
  };
}

function toHeaders(headers: IncomingHttpHeaders): Headers {
  const result = new Headers();
  for (const [key, value] of Object.entries(headers)) {
    if (key.startsWith(":") || value === undefined) continue;
    if (Array.isArray(value)) for (const v of value) result.append(key, v);
    else result.set(key, value);
  }
  return result;
}
