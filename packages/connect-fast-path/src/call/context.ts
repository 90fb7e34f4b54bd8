import type { IncomingHttpHeaders } from "node:http2";
import type { DescMethodServerStreaming, DescMethodUnary, DescService } from "@bufbuild/protobuf";

/** The kinds of method the fast path serves: one request message each. */
export type SingleRequestMethod = DescMethodUnary | DescMethodServerStreaming;

import { Code, ConnectError, type ContextKey, type ContextValues, type HandlerContext } from "@connectrpc/connect";
import { LeanHeaders } from "../wire/lean-headers.js";

/**
 * Something in flight that can be aborted: a fast-path call. It carries its
 * own links in the list of calls in flight.
 */
export interface Abortable {
  abort(reason: unknown): void;
  previousInflight: Abortable | undefined;
  nextInflight: Abortable | undefined;
}

/**
 * The calls in flight on the fast path. Shutdown aborts them through this
 * one list, instead of every call adding a listener to the shutdown signal.
 *
 * A list linked through the calls, not a Set: a long-lived Set that grows
 * and shrinks with the load allocates a new table each time, which the Set
 * keeps alive until the garbage collector promotes it to the old
 * generation, there to die. In a heap profile of the server under load,
 * those tables were a tenth of everything that reached the old generation.
 */
export class InflightCalls {
  private first: Abortable | undefined;
  private shutdownReason: unknown;

  constructor(shutdownSignal: AbortSignal) {
    shutdownSignal.addEventListener(
      "abort",
      () => {
        this.shutdownReason = shutdownSignal.reason;
        for (let call = this.first; call !== undefined; ) {
          // Aborting takes the call out of the list.
          const next = call.nextInflight;
          call.abort(shutdownSignal.reason);
          call = next;
        }
      },
      { once: true },
    );
  }

  add(call: Abortable): void {
    if (this.shutdownReason !== undefined) {
      call.abort(this.shutdownReason);
      return;
    }
    call.previousInflight = undefined;
    call.nextInflight = this.first;
    if (this.first) this.first.previousInflight = call;
    this.first = call;
  }

  /** Takes a call out; one not in the list is left alone. */
  delete(call: Abortable): void {
    const { previousInflight: previous, nextInflight: next } = call;
    if (previous) previous.nextInflight = next;
    else if (this.first === call) this.first = next;
    else return;
    if (next) next.previousInflight = previous;
    call.previousInflight = undefined;
    call.nextInflight = undefined;
  }
}

export interface CallContext extends HandlerContext {
  /** Joins the calls in flight and arms the deadline, for a context made with `deferStart`; otherwise done already. */
  start(): void;
  /** Ends the call's deadline and the handler's signal, e.g. when the client cancels. */
  abort(reason: unknown): void;
  /** Calls `listener` once if the call is aborted (at once if it already is); cheaper than a signal listener. */
  onAbort(listener: (reason: ConnectError) => void): void;
  /** The call is answered: drop its timer and its place in the in-flight list, without firing the signal. */
  finish(): void;
  /** Why the call was aborted (deadline, the client's cancel, shutdown), if it was; read without making the signal. */
  readonly abortReason: ConnectError | undefined;
  /** Whether the handler touched the response headers or trailers (so they must be sent). */
  readonly responseHeaderIfSet: Headers | undefined;
  readonly responseTrailerIfSet: Headers | undefined;
}

export interface CallContextInit {
  method: SingleRequestMethod;
  protocolName: string;
  requestMethod: string;
  url: string;
  timeoutMs: number | undefined;
  requestHeaders: IncomingHttpHeaders;
  inflight: InflightCalls;
  /**
   * Made for the request gate, before the body is read: the call joins the
   * calls in flight and its deadline's timer runs only from `start()`, so
   * that a call whose client goes away while its body is read leaves
   * nothing behind. Its deadline still counts from now.
   */
  deferStart?: boolean;
  /** The request's headers as the request gate saw (and perhaps changed) them; made from `requestHeaders` if not given. */
  requestHeader?: LeanHeaders;
}

/**
 * A HandlerContext with what connect's `createHandlerContext` gives, built
 * for one unary call at a time, with every part made only when asked for:
 * the AbortController and its signal (two objects, and the signal's
 * listeners, that most calls never look at), the Headers, the context values.
 * A timer runs only when there is a deadline. A class, not an object of
 * closures: per call it allocates one object, which matters because the
 * fast path's profile is a third garbage collection.
 */
class FastCallContext implements CallContext, Abortable {
  readonly service: DescService;
  readonly method: SingleRequestMethod;
  readonly protocolName: string;
  readonly requestMethod: string;
  readonly url: string;
  private controller: AbortController | undefined;
  abortReason: ConnectError | undefined;
  private abortListener: ((reason: ConnectError) => void) | undefined;
  private timer: NodeJS.Timeout | undefined;
  private deadline: number | undefined;
  private header: Headers | undefined;
  private outHeader: Headers | undefined;
  private outTrailer: Headers | undefined;
  private contextValues: ContextValues | undefined;
  private started = false;
  private done = false;
  previousInflight: Abortable | undefined;
  nextInflight: Abortable | undefined;

  constructor(private readonly init: CallContextInit) {
    this.service = init.method.parent;
    this.method = init.method;
    this.protocolName = init.protocolName;
    this.requestMethod = init.requestMethod;
    this.url = init.url;
    if (init.timeoutMs !== undefined) {
      // Whole milliseconds, as connect-node's Date-based deadline gives:
      // gRPC timeouts in µs or ns would otherwise make timeoutMs() fractional.
      this.deadline = Math.trunc(Date.now() + init.timeoutMs);
    }
    if (!init.deferStart) this.start();
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    this.init.inflight.add(this);
    // Added after the shutdown: aborted and finished at once, no timer to arm.
    if (this.done) return;
    if (this.deadline !== undefined) {
      this.timer = setTimeout(
        () => this.abort(new ConnectError("the operation timed out", Code.DeadlineExceeded)),
        Math.max(0, this.deadline - Date.now()),
      );
    }
  }

  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.abortReason !== undefined) this.controller.abort(this.abortReason);
    }
    return this.controller.signal;
  }

  readonly timeoutMs = (): number | undefined => (this.deadline === undefined ? undefined : this.deadline - Date.now());

  get requestHeader(): Headers {
    this.header ??= this.init.requestHeader ?? new LeanHeaders(this.init.requestHeaders);
    return this.header;
  }

  get responseHeader(): Headers {
    this.outHeader ??= new LeanHeaders();
    return this.outHeader;
  }

  get responseTrailer(): Headers {
    this.outTrailer ??= new LeanHeaders();
    return this.outTrailer;
  }

  get values(): ContextValues {
    this.contextValues ??= new MapContextValues();
    return this.contextValues;
  }

  get responseHeaderIfSet(): Headers | undefined {
    return this.outHeader;
  }

  get responseTrailerIfSet(): Headers | undefined {
    return this.outTrailer;
  }

  abort(reason: unknown): void {
    if (this.abortReason !== undefined) return;
    this.abortReason = ConnectError.from(reason);
    this.finish();
    this.controller?.abort(reason);
    this.abortListener?.(this.abortReason);
  }

  onAbort(listener: (reason: ConnectError) => void): void {
    if (this.abortReason !== undefined) listener(this.abortReason);
    else this.abortListener = listener;
  }

  finish(): void {
    if (this.done) return;
    this.done = true;
    clearTimeout(this.timer);
    this.init.inflight.delete(this);
  }
}

export function createCallContext(init: CallContextInit): CallContext {
  return new FastCallContext(init);
}

/**
 * Context values in a Map. connect's createContextValues adds a symbol-keyed
 * property per value to a fresh object, which turns every call's object
 * into a slow dictionary; a Map keeps one shape.
 */
class MapContextValues implements ContextValues {
  private readonly map = new Map<symbol, unknown>();

  get<T>(key: ContextKey<T>): T {
    return this.map.has(key.id) ? (this.map.get(key.id) as T) : key.defaultValue;
  }

  set<T>(key: ContextKey<T>, value: T): this {
    this.map.set(key.id, value);
    return this;
  }

  delete(key: ContextKey<unknown>): this {
    this.map.delete(key.id);
    return this;
  }
}
