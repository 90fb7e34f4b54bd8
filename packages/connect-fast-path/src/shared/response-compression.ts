import { brotliCompressSync, gzipSync } from "node:zlib";

/** A compression the server sends. */
export interface ResponseEncoding {
  name: string;
  compress(bytes: Uint8Array): Uint8Array;
}

/** The encodings the server sends, best first (connect-node's order). */
const SUPPORTED: readonly ResponseEncoding[] = [
  { name: "gzip", compress: (bytes) => gzipSync(bytes) },
  { name: "br", compress: (bytes) => brotliCompressSync(bytes) },
];

/**
 * The encoding to answer with, if the client accepts one the server sends
 * (`grpc-accept-encoding` for gRPC, `accept-encoding` for Connect).
 * Synchronous compression: fast-path messages are at most the configured
 * message size.
 */
export function chooseEncoding(accepted: string | string[] | undefined): ResponseEncoding | undefined {
  if (accepted === undefined) return undefined;
  const names = (Array.isArray(accepted) ? accepted.join(",") : accepted).split(",").map((n) => n.trim().split(";")[0]);
  return SUPPORTED.find((s) => names.includes(s.name));
}

/**
 * Compresses a response message as connect-node would: only if it is at
 * least `minBytes` long and the client accepts gzip or br.
 */
export function compressResponse(
  bytes: Uint8Array,
  accepted: string | string[] | undefined,
  minBytes: number,
): { bytes: Uint8Array; encoding?: string } {
  if (bytes.byteLength < minBytes) return { bytes };
  const chosen = chooseEncoding(accepted);
  return chosen ? { bytes: chosen.compress(bytes), encoding: chosen.name } : { bytes };
}
