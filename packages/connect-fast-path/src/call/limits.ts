import type { IncomingHttpHeaders } from "node:http";
import type { BinaryReadOptions, BinaryWriteOptions, JsonReadOptions, JsonWriteOptions } from "@bufbuild/protobuf";
import { Code, ConnectError, type HandlerContext, type Interceptor } from "@connectrpc/connect";
import type { CallInfoKey } from "../call-info.js";
import type { CorsPolicy } from "../wire/cors.js";
import type { ResponseEncodings } from "../wire/response-compression.js";
import type { RequestBudget } from "./request-budget.js";

/** What every protocol's handler needs: the same limits and interceptors as the Connect router's. */
/** connect's `requestGate`: runs once the headers are in, before any request message is read. */
export type RequestGate = (context: HandlerContext) => void | Promise<void>;

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

export interface CallLimits {
  /** Largest request message. */
  readMaxBytes: number;
  /** Largest response message. */
  writeMaxBytes: number;
  /** Aborts every running call when the server shuts down. */
  shutdownSignal: AbortSignal;
  /** Browser pages allowed to call; calls from other origins are handed on. */
  cors: CorsPolicy;
  /** The server's interceptors, the same as the Connect router's. */
  interceptors: readonly Interceptor[];
  /** Responses at least this long are compressed for clients that accept one of `responseEncodings`. */
  compressMinBytes: number;
  /** The compressions a response may use: the router's `acceptCompression`. */
  responseEncodings: ResponseEncodings;
  /** How messages are read and written, as connect-node's router options say. */
  jsonOptions: Partial<JsonReadOptions & JsonWriteOptions> | undefined;
  binaryOptions: Partial<BinaryReadOptions & BinaryWriteOptions> | undefined;
  /** Counts the request bytes held before their message is whole; none if undefined. */
  requestBudget?: RequestBudget;
  /** Told of each call refused before the interceptors run; see FastPathOptions. */
  onRefused?: (refusal: EarlyRefusal) => Record<string, string> | undefined;
  /** Where each call's CallInfo goes in its context values; nowhere if undefined. */
  callInfoKey?: CallInfoKey;
  /** The longest timeout a client may ask for; a longer one is INVALID_ARGUMENT. */
  maxTimeoutMs: number;
  /** Runs before a call's body is read; see FastPathOptions. */
  requestGate?: RequestGate;
  /** The protocols served: a call of one switched off is handed on, for connect-node to refuse. */
  protocols: { grpc: boolean; grpcWeb: boolean; connect: boolean };
  /** Connect calls must name the protocol version (`connect-protocol-version: 1`, or `connect=v1` in a GET). */
  requireConnectProtocolHeader: boolean;
}

/** RESOURCE_EXHAUSTED for a request message over the limit, as connect-node words it. */
export function tooLarge(maxBytes: number): ConnectError {
  return new ConnectError(`message size is larger than configured readMaxBytes ${maxBytes}`, Code.ResourceExhausted);
}

/** Throws RESOURCE_EXHAUSTED if a response message is over the limit. */
export function checkWriteSize(bytes: Uint8Array, writeMaxBytes: number): void {
  if (bytes.length > writeMaxBytes) {
    throw new ConnectError(
      `message size ${bytes.length} is larger than configured writeMaxBytes ${writeMaxBytes}`,
      Code.ResourceExhausted,
    );
  }
}
