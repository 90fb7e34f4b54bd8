import { brotliCompressSync, gzipSync } from "node:zlib";
import { Code, ConnectError, type ConnectRouterOptions } from "@connectrpc/connect";

/** A compression the server sends. */
export interface ResponseEncoding {
  name: string;
  compress(bytes: Uint8Array): Uint8Array;
}

/**
 * The compressions this package can send, synchronously, by name: Node's
 * zlib with default options, as connect-node's `compressionGzip` and
 * `compressionBrotli` (asynchronously) produce the same bytes. Synchronous
 * because fast-path messages are at most the configured message size, and
 * a unary answer is encoded in one go.
 */
const SYNCHRONOUS: Readonly<Record<string, ResponseEncoding["compress"]>> = {
  gzip: (bytes) => gzipSync(bytes),
  br: (bytes) => brotliCompressSync(bytes),
};

/** connect-node's adapters' default `acceptCompression`: gzip and br. */
export const DEFAULT_RESPONSE_ENCODINGS: readonly ResponseEncoding[] = [
  { name: "gzip", compress: SYNCHRONOUS.gzip as ResponseEncoding["compress"] },
  { name: "br", compress: SYNCHRONOUS.br as ResponseEncoding["compress"] },
];

/**
 * The encodings the server may answer with: the router's `acceptCompression`
 * (connect-node's adapters' gzip and br when not given), each done here
 * synchronously. A compression this package cannot do (not gzip or br) is
 * refused here, at creation: connect-node would answer with it, and the
 * fast path cannot.
 */
export function responseEncodings(accept: ConnectRouterOptions["acceptCompression"]): ResponseEncodings {
  if (accept === undefined) return new ResponseEncodings(DEFAULT_RESPONSE_ENCODINGS);
  const available = accept.map(({ name }) => {
    const compress = SYNCHRONOUS[name];
    if (!compress) {
      throw new ConnectError(
        `acceptCompression "${name}" is not supported by the fast path (only ${Object.keys(SYNCHRONOUS).join(", ")})`,
        Code.Internal,
      );
    }
    return { name, compress };
  });
  return new ResponseEncodings(available);
}

/**
 * The encoding to answer with, chosen exactly as connect's
 * `compressionNegotiate` chooses it (its request side aside: the fast path
 * takes uncompressed requests only): the first name in the client's list
 * (`grpc-accept-encoding` for gRPC, `accept-encoding` for Connect), in the
 * client's order, that the server offers. An entry with parameters
 * (`gzip;q=0`, and `gzip;q=0.5` too) names no encoding and is passed over,
 * so a refused encoding is never chosen. None when the client lists nothing.
 */
export function chooseEncoding(
  available: readonly ResponseEncoding[],
  accepted: string | string[] | undefined,
): ResponseEncoding | undefined {
  if (accepted === undefined || accepted === "") return undefined;
  const names = Array.isArray(accepted) ? accepted.join(",") : accepted;
  for (const name of names.split(",")) {
    const trimmed = name.trim();
    const found = available.find((e) => e.name === trimmed);
    if (found) return found;
  }
  return undefined;
}

/**
 * The server's response encodings and its choice among them for a client's
 * list. Most clients send the same list on every call (grpc-js:
 * `identity,deflate,gzip`), so the last choice is kept and a call that
 * lists the same again costs one comparison.
 */
export class ResponseEncodings {
  private lastAccepted: string | undefined;
  private lastChoice: ResponseEncoding | undefined;

  constructor(readonly available: readonly ResponseEncoding[]) {}

  /** {@link chooseEncoding} among these encodings. */
  choose(accepted: string | string[] | undefined): ResponseEncoding | undefined {
    if (accepted === undefined) return undefined;
    if (accepted === this.lastAccepted) return this.lastChoice;
    const choice = chooseEncoding(this.available, accepted);
    if (typeof accepted === "string") {
      this.lastAccepted = accepted;
      this.lastChoice = choice;
    }
    return choice;
  }
}

/**
 * A message (or a gRPC-Web trailer, a Connect end-of-stream or error body)
 * compressed as connect-node compresses it: only if it is at least
 * `minBytes` long and an encoding was negotiated.
 */
export function compressIfWorth(
  bytes: Uint8Array,
  encoding: ResponseEncoding | undefined,
  minBytes: number,
): { bytes: Uint8Array; encoding?: string } {
  if (encoding === undefined || bytes.byteLength < minBytes) return { bytes };
  return { bytes: encoding.compress(bytes), encoding: encoding.name };
}
