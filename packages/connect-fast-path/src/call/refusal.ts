import type { IncomingHttpHeaders } from "node:http";
import type { ConnectError } from "@connectrpc/connect";
import { type FastRequest, peerOf } from "../wire/exchange.js";
import type { CallLimits } from "./limits.js";

/** A call refused before the interceptors ran: they never see it, so this is its only trace. */
export interface EarlyRefusal {
  /** `/package.Service/Method`. */
  procedure: string;
  protocol: "grpc" | "grpc-web" | "connect";
  error: ConnectError;
  /** The client's address, e.g. `127.0.0.1:53110`. */
  peer: string;
  /** The request's headers as Node parsed them (a request id the caller sent, say). */
  requestHeaders: IncomingHttpHeaders;
}

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
