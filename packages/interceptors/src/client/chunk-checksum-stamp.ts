import type { Interceptor } from "@connectrpc/connect";
import { type ChunkFields, chunkData, crc32c, withDefaults } from "../chunk-checksum.js";

/**
 * For streams the client sends (client and bidirectional streaming): stamps
 * every message that has a bytes field and a checksum field (`data` and
 * `crc32c` by default, as greeter.v1.AudioChunk) with the CRC32C of its
 * data, so the server can tell a chunk damaged on the way.
 */
export function createChunkChecksumInterceptor(fields: ChunkFields = {}): Interceptor {
  const f = withDefaults(fields);
  return (next) => (req) => {
    if (!req.stream) return next(req);
    return next({ ...req, message: stamped(req.message, f) });
  };
}

async function* stamped<T>(messages: AsyncIterable<T>, fields: Required<ChunkFields>): AsyncIterable<T> {
  for await (const message of messages) {
    const data = chunkData(message, fields);
    if (data) (message as Record<string, unknown>)[fields.checksumField] = crc32c(data);
    yield message;
  }
}
