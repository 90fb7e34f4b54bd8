import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import { type ChunkFields, chunkData, crc32c, withDefaults } from "../chunk-checksum.js";

/**
 * For streams the server receives: checks the CRC32C of every chunk message
 * (see the client's createChunkChecksumInterceptor) before the handler sees
 * it, and fails the call with DATA_LOSS naming the first damaged chunk
 * (counted from 0). Unary calls and messages without the fields pass.
 */
export function createChunkChecksumCheckInterceptor(fields: ChunkFields = {}): Interceptor {
  const f = withDefaults(fields);
  return (next) => (req) => {
    if (!req.stream) return next(req);
    return next({ ...req, message: checked(req.message, f) });
  };
}

async function* checked<T>(messages: AsyncIterable<T>, fields: Required<ChunkFields>): AsyncIterable<T> {
  let index = 0;
  for await (const message of messages) {
    const data = chunkData(message, fields);
    if (data) {
      const said = (message as Record<string, unknown>)[fields.checksumField];
      const actual = crc32c(data);
      if (said !== actual) {
        throw new ConnectError(
          `chunk ${index}: CRC32C mismatch (the chunk says ${String(said)}, its ${data.byteLength} bytes give ${actual}); the data was damaged on the way`,
          Code.DataLoss,
        );
      }
    }
    index++;
    yield message;
  }
}
