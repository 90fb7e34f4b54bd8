import { Code, ConnectError } from "@connectrpc/connect";

/**
 * A Connect call that does not name the protocol version (the
 * `connect-protocol-version` header, or `connect` in a GET's query), when
 * the router's `requireConnectProtocolHeader` asks for it:
 * INVALID_ARGUMENT in connect-node's words (fast-path-parity-edges.test.ts
 * holds both paths to them).
 */
export function connectVersionRequired(where: "header" | "query"): ConnectError {
  return new ConnectError(
    where === "header"
      ? 'missing required header: set Connect-Protocol-Version to "1"'
      : 'missing required parameter: set connect to "v1"',
    Code.InvalidArgument,
  );
}
