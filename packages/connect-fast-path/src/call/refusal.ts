import type { ConnectError } from "@connectrpc/connect";
import { type FastRequest, peerOf } from "../wire/exchange.js";
import type { CallLimits, EarlyRefusal } from "./limits.js";

export type { EarlyRefusal } from "./limits.js";

/**
 * Reports a call refused before the interceptors, and adds what the
 * report returns (a request id, say) to the answer's `metadata`.
 */
export function reportRefusal(
  options: Pick<CallLimits, "onRefused">,
  req: FastRequest,
  protocol: EarlyRefusal["protocol"],
  error: ConnectError,
  metadata: { set(name: string, value: string): unknown },
): void {
  const extra = options.onRefused?.({
    procedure: (req.url ?? "").split("?")[0] ?? "",
    protocol,
    error,
    peer: peerOf(req),
    requestHeaders: req.headers,
  });
  if (extra) for (const [name, value] of Object.entries(extra)) metadata.set(name, value);
}
