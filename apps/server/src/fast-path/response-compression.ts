import { brotliCompressSync, gzipSync } from "node:zlib";

/** The encodings the server sends, best first (connect-node's order). */
const SUPPORTED = [
  { name: "gzip", compress: (bytes: Uint8Array) => gzipSync(bytes) },
  { name: "br", compress: (bytes: Uint8Array) => brotliCompressSync(bytes) },
] as const;

/**
 * Compresses a response message as connect-node would: only if it is at
 * least `minBytes` long and the client accepts gzip or br
 * (`grpc-accept-encoding` for gRPC, `accept-encoding` for Connect).
 * Synchronous: fast-path messages are single unary answers, at most the
 * configured message size.
 */
export function compressResponse(
  bytes: Uint8Array,
  accepted: string | string[] | undefined,
  minBytes: number,
): { bytes: Uint8Array; encoding?: string } {
  if (accepted === undefined || bytes.byteLength < minBytes) return { bytes };
  const names = (Array.isArray(accepted) ? accepted.join(",") : accepted).split(",").map((n) => n.trim().split(";")[0]);
  const chosen = SUPPORTED.find((s) => names.includes(s.name));
  return chosen ? { bytes: chosen.compress(bytes), encoding: chosen.name } : { bytes };
}
