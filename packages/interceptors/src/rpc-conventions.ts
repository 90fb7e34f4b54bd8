import { Code, type StreamRequest, type UnaryRequest } from "@connectrpc/connect";
import type { Attributes } from "@opentelemetry/api";
import { emitsOld, emitsStable, type RpcSemconv } from "./semconv-mode.js";

// The OpenTelemetry RPC conventions, old (v1.37.0 and before) and stable
// (1.45), for the spans and metrics of both sides. Shared by the client
// and server interceptors: it depends on nothing of the server's.

/** The wire protocols Greeter speaks; gRPC-Web is gRPC to the conventions. */
export type RpcProtocol = "grpc" | "grpc-web" | "connect";

/** Which end of the call an interceptor is on: the conventions judge errors differently. */
export type RpcSide = "client" | "server";

/** Status names as gRPC spells them, by code number. */
export const GRPC_CODE_NAMES: readonly string[] = [
  "OK",
  "CANCELLED",
  "UNKNOWN",
  "INVALID_ARGUMENT",
  "DEADLINE_EXCEEDED",
  "NOT_FOUND",
  "ALREADY_EXISTS",
  "PERMISSION_DENIED",
  "RESOURCE_EXHAUSTED",
  "FAILED_PRECONDITION",
  "ABORTED",
  "OUT_OF_RANGE",
  "UNIMPLEMENTED",
  "INTERNAL",
  "UNAVAILABLE",
  "DATA_LOSS",
  "UNAUTHENTICATED",
];

/** An RPC system as each convention names it, and how it spells a status. */
export interface RpcSystem {
  /** `rpc.system` (old). */
  readonly old: string;
  /** `rpc.system.name` (stable). */
  readonly stable: string;
  /** `rpc.status_code` for a code (0 = OK), or undefined where the system has none. */
  statusCode(code: number): string | undefined;
}

const grpcName = (code: number): string => GRPC_CODE_NAMES[code] ?? String(code);

const GRPC: RpcSystem = { old: "grpc", stable: "grpc", statusCode: grpcName };

// Connect's codes are gRPC's names in lower case, and Connect has no code
// for success (a call either fails with a code or it does not), so a
// successful Connect call has no `rpc.status_code`: the conventions ask
// for it only "if available".
const CONNECT: RpcSystem = {
  old: "connect_rpc",
  stable: "connectrpc",
  statusCode: (code) => (code === 0 ? undefined : grpcName(code).toLowerCase()),
};

/** The RPC system of a protocol: `connect` is Connect RPC, gRPC and gRPC-Web are gRPC. */
export function rpcSystemOf(protocol: string): RpcSystem {
  return protocol === "connect" ? CONNECT : GRPC;
}

// grpc.md and connect-rpc.md (and v1.37.0's grpc.md before them): a server
// reports only these as its errors; the rest (INVALID_ARGUMENT, NOT_FOUND,
// …) are the caller's, an answer the server gave as it should. A client
// reports every code but OK.
const SERVER_ERRORS: ReadonlySet<number> = new Set([
  Code.Unknown,
  Code.DeadlineExceeded,
  Code.Unimplemented,
  Code.Internal,
  Code.Unavailable,
  Code.DataLoss,
]);

/** Whether a call that ended with `code` failed, by the stable conventions, as `side` sees it. */
export function isRpcError(side: RpcSide, code: number): boolean {
  return code !== 0 && (side === "client" || SERVER_ERRORS.has(code));
}

/** `service/method`, the stable `rpc.method` and both conventions' span name. */
export function fullMethodName(req: UnaryRequest | StreamRequest): string {
  return `${req.service.typeName}/${req.method.name}`;
}

/** Where a client sends its calls: the stable `server.address` and `server.port`. */
export interface RpcServerAddress {
  address: string;
  port: number;
}

const DEFAULT_PORTS: Readonly<Record<string, number>> = { "http:": 80, "https:": 443 };

/**
 * The server a client call goes to, from the URL it was configured with
 * (the conventions ask for the configured target, not the socket's peer).
 * An IPv6 address loses its URL brackets.
 */
export function serverAddressOf(url: string): RpcServerAddress | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined;
  }
  const address = parsed.hostname.replace(/^\[(.*)\]$/, "$1");
  const port = parsed.port === "" ? DEFAULT_PORTS[parsed.protocol] : Number(parsed.port);
  if (address === "" || port === undefined) return undefined;
  return { address, port };
}

/** The attributes a span has from its start: those samplers may look at. */
export function rpcStartAttributes(
  req: UnaryRequest | StreamRequest,
  system: RpcSystem,
  semconv: RpcSemconv,
  server?: RpcServerAddress,
): Attributes {
  const attributes: Attributes = {};
  if (emitsOld(semconv)) {
    attributes["rpc.system"] = system.old;
    attributes["rpc.service"] = req.service.typeName;
    attributes["rpc.method"] = req.method.name;
  }
  if (emitsStable(semconv)) {
    attributes["rpc.system.name"] = system.stable;
    // The old convention's short `rpc.method` would clash: the stable one wins.
    attributes["rpc.method"] = fullMethodName(req);
    if (server) {
      attributes["server.address"] = server.address;
      attributes["server.port"] = server.port;
    }
  }
  return attributes;
}

/** The attributes of a call's outcome: its status code and, if it failed, `error.type`. */
export function rpcEndAttributes(system: RpcSystem, semconv: RpcSemconv, side: RpcSide, code: number): Attributes {
  const attributes: Attributes = {};
  // The old conventions define the integer code for gRPC; Greeter has
  // always set it for Connect calls too, and keeps doing so by default.
  if (emitsOld(semconv)) attributes["rpc.grpc.status_code"] = code;
  if (emitsStable(semconv)) {
    const status = system.statusCode(code);
    if (status !== undefined) attributes["rpc.status_code"] = status;
    if (isRpcError(side, code)) attributes["error.type"] = status ?? grpcName(code);
  }
  return attributes;
}
