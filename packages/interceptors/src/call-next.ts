import type { Interceptor, StreamRequest, StreamResponse, UnaryRequest, UnaryResponse } from "@connectrpc/connect";

type Next = Parameters<Interceptor>[0];

/**
 * `next(req)` as a promise, rejected rather than thrown if the next step
 * throws before it returns one: what an `async` interceptor gets for free.
 *
 * The unary paths of our interceptors are written with promise callbacks
 * instead of as `async` functions because on Node 24 one `async` layer
 * with an `await` cost about 5% of a unary call, where the same layer
 * with `.then` cost nothing measurable (the bench, side by side).
 */
export function callNext(next: Next, req: UnaryRequest | StreamRequest): Promise<UnaryResponse | StreamResponse> {
  try {
    return next(req);
  } catch (e) {
    return Promise.reject(e);
  }
}
