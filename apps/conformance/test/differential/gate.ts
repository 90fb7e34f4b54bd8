import { Code, ConnectError, type HandlerContext } from "@connectrpc/connect";

/**
 * The request header that tells {@link differentialGate} what to do:
 * `refuse` (PERMISSION_DENIED with metadata, a protocol header among it),
 * `refuse-later` (the same after a timer, so the call waits at the gate),
 * `plain` (a plain Error: INTERNAL), or `pass` (sets a response header and
 * trailer, which must reach the client with whatever the call ends with).
 */
export const GATE = "x-diff-gate";

/** A `requestGate` steered by the request, to compare what both paths do with each of its outcomes. */
export function differentialGate(context: HandlerContext): void | Promise<void> {
  const what = context.requestHeader.get(GATE);
  if (what === null) return;
  if (what === "pass") {
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
  return new Promise((_, reject) => setTimeout(() => reject(refusal), 5));
}
