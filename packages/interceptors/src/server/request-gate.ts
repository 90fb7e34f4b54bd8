import type { HandlerContext } from "@connectrpc/connect";

/**
 * connect's `requestGate` (a router option since connect-es 2.2, which the
 * fast path honours too): runs once a call's headers are in, before a byte
 * of its body is read. What it throws ends the call; what it puts in the
 * context (values, response headers) stays with a call it lets through.
 */
export type RequestGate = (context: HandlerContext) => void | Promise<void>;

/**
 * The gates as one, run in order, each only once the one before let the
 * call through. Synchronous while they are: a call that no gate makes wait
 * costs no promise.
 */
export function chainGates(gates: readonly RequestGate[]): RequestGate | undefined {
  if (gates.length <= 1) return gates[0];
  const from = (index: number, context: HandlerContext): void | Promise<void> => {
    for (let i = index; i < gates.length; i++) {
      const pending: unknown = (gates[i] as RequestGate)(context);
      // Any thenable, as connect awaits whatever a gate returns.
      if (
        typeof pending === "object" &&
        pending !== null &&
        typeof (pending as PromiseLike<void>).then === "function"
      ) {
        return Promise.resolve(pending as PromiseLike<void>).then(() => from(i + 1, context));
      }
    }
  };
  return (context) => from(0, context);
}
