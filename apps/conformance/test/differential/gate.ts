import { Code, ConnectError, type HandlerContext } from "@connectrpc/connect";

/**
 * The request header that tells {@link differentialGate} what to do:
 * `refuse` (PERMISSION_DENIED with metadata, a protocol header among it),
 * `refuse-later` (the same after a timer, so the call waits at the gate),
 * `plain` (a plain Error: INTERNAL), `pass` (sets a response header and
 * trailer, which must reach the client with whatever the call ends with,
 * and changes the request's headers, which the handler echoes back), or
 * `thenable` (refuses through a thenable that is not a Promise, which a
 * gate may return: connect awaits it).
 */
export const GATE = "x-diff-gate";

/** A `requestGate` steered by the request, to compare what both paths do with each of its outcomes. */
export function differentialGate(context: HandlerContext): void | Promise<void> {
  const what = context.requestHeader.get(GATE);
  if (what === null) return;
  if (what === "pass") {
    // The request's headers first: before anything else of the context is touched.
    context.requestHeader.set("x-gate-added", "by the gate");
    context.requestHeader.delete("x-custom");
    context.responseHeader.set("x-gated", "passed");
    context.responseTrailer.set("x-gated-trailer", "passed");
    return;
  }
  if (what === "plain") throw new Error("a bug in the gate");
  const refusal = new ConnectError("the gate refuses this call", Code.PermissionDenied, {
    "x-gate-reason": "asked to",
    "content-encoding": "gzip",
  });
  if (what === "refuse") throw refusal;
  if (what === "thenable") {
    const later: PromiseLike<void> = {
      // biome-ignore lint/suspicious/noThenProperty: a thenable that is not a Promise is what this case tries.
      then: (_onPass, onRefuse) => {
        setTimeout(() => onRefuse?.(refusal), 1);
        return later as never;
      },
    };
    return later as Promise<void>;
  }
  return new Promise((_, reject) => setTimeout(() => reject(refusal), 5));
}
