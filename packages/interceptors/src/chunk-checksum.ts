import CRC32C from "crc-32/crc32c.js";

/** Where a chunk message keeps its bytes and their checksum. */
export interface ChunkFields {
  /** @default "data" */
  dataField?: string;
  /** @default "crc32c" */
  checksumField?: string;
}

/** CRC32C (Castagnoli) of `bytes`, as an unsigned 32-bit number (a `fixed32`). */
export function crc32c(bytes: Uint8Array): number {
  return CRC32C.buf(bytes) >>> 0;
}

/** The data of a chunk message, or undefined for messages without the fields. */
export function chunkData(message: unknown, fields: Required<ChunkFields>): Uint8Array | undefined {
  if (typeof message !== "object" || message === null || !(fields.checksumField in message)) return undefined;
  const data = (message as Record<string, unknown>)[fields.dataField];
  return data instanceof Uint8Array ? data : undefined;
}

export const withDefaults = (fields: ChunkFields): Required<ChunkFields> => ({
  dataField: fields.dataField ?? "data",
  checksumField: fields.checksumField ?? "crc32c",
});
