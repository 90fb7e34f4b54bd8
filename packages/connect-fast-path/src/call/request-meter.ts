import { isUtf8 } from "node:buffer";
import type { IncomingMessage } from "node:http";
import type { Http2ServerRequest } from "node:http2";
import { brotliDecompressSync, gunzipSync } from "node:zlib";
import { Code, ConnectError } from "@connectrpc/connect";
import { budgetSpent, connectionOf, type RequestBudget } from "./request-budget.js";

/** Connect's unary content types: the body is one message, not envelopes. */
const CONNECT_UNARY = /^application\/(proto|json)(;|$)/i;
/** Content types whose messages are JSON: Connect's unary and stream, gRPC's and gRPC-Web's `+json`. */
const JSON_MESSAGES = /^application\/([a-z-]+\+)?json(;|$)/i;

/**
 * Makes connect-node count what it holds of a request's unfinished message
 * against `budget`, as the fast path does: connect-node reads a request
 * through `req.iterator()` (connect-es's `universalRequestFromNodeRequest`),
 * so the meter sits there, on this one request. For enveloped bodies (gRPC,
 * gRPC-Web, Connect streams) only the envelope still arriving counts, so an
 * upload of many messages costs one message at a time; a Connect unary body
 * counts whole until it ends. Past the budget, reading fails with
 * RESOURCE_EXHAUSTED, which connect-node answers as the call's status.
 *
 * JSON messages are also checked to be UTF-8 on the way (INVALID_ARGUMENT
 * if not), which connect-node's decoding would instead patch with U+FFFD;
 * a compressed one is decompressed for the check (gzip and br, at most
 * `readMaxBytes` of it: past that connect-node refuses it anyway).
 */
export function meterRequestBody(
  req: IncomingMessage | Http2ServerRequest,
  budget: RequestBudget,
  options: { readMaxBytes?: number } = {},
): void {
  const connection = connectionOf(req);
  const { headers } = req;
  const contentType = headers["content-type"] ?? "";
  const enveloped = !CONNECT_UNARY.test(contentType);
  const encoding = enveloped
    ? (headers["grpc-encoding"] ?? headers["connect-content-encoding"])
    : headers["content-encoding"];
  const json = JSON_MESSAGES.test(contentType)
    ? createJsonCheck(decompressorFor(encoding, options.readMaxBytes ?? 0xffffffff))
    : undefined;
  // A Connect unary body is one message, compressed or not as its header says.
  const unaryCompressed = !enveloped && encoding !== undefined && encoding !== "identity";
  const original = req.iterator.bind(req);
  req.iterator = (iteratorOptions) =>
    metered(original(iteratorOptions), connection, budget, enveloped, json, unaryCompressed);
}

/** What decompresses a message of `encoding` (gzip and br, as the server accepts), or undefined for none the check knows. */
function decompressorFor(
  encoding: string | string[] | undefined,
  maxBytes: number,
): ((bytes: Buffer) => Buffer) | undefined {
  const limit = { maxOutputLength: maxBytes };
  if (encoding === "gzip") return (bytes) => gunzipSync(bytes, limit);
  if (encoding === "br") return (bytes) => brotliDecompressSync(bytes, limit);
  return undefined;
}

async function* metered(
  source: AsyncIterable<Buffer>,
  connection: object,
  budget: RequestBudget,
  enveloped: boolean,
  utf8: JsonCheck | undefined,
  unaryCompressed: boolean,
): AsyncGenerator<Buffer, undefined> {
  const envelope = createEnvelopeTracker(utf8);
  let held = 0;
  try {
    for await (const chunk of source) {
      if (utf8 && !enveloped) utf8.part(chunk, unaryCompressed);
      const unfinished = enveloped ? envelope.advance(chunk) : held + chunk.length;
      if (unfinished > held) {
        const spent = budget.hold(connection, unfinished - held);
        if (spent) throw budgetSpent(spent);
      } else if (unfinished < held) {
        budget.release(connection, held - unfinished);
      }
      held = unfinished;
      yield chunk;
    }
    if (utf8 && !enveloped) utf8.end(unaryCompressed);
  } finally {
    budget.release(connection, held);
  }
  return undefined;
}

type JsonCheck = ReturnType<typeof createJsonCheck>;

/**
 * Checks a JSON message's bytes, given in parts, to be UTF-8; throws
 * INVALID_ARGUMENT where they are not. A compressed message is kept until
 * it is whole, then decompressed and checked; one it cannot decompress is
 * left for connect-node to refuse in its own words.
 */
function createJsonCheck(decompress: ((bytes: Buffer) => Buffer) | undefined) {
  const decoder = new TextDecoder("utf-8", { fatal: true });
  const invalid = () => new ConnectError("the JSON message is not valid UTF-8", Code.InvalidArgument);
  let compressedParts: Buffer[] = [];
  return {
    part(bytes: Buffer, compressed: boolean): void {
      if (compressed) {
        if (decompress) compressedParts.push(bytes);
        return;
      }
      try {
        decoder.decode(bytes, { stream: true });
      } catch {
        throw invalid();
      }
    },
    /** The message is over: a sequence cut short at its end is invalid too. */
    end(compressed: boolean): void {
      if (compressed) {
        const parts = compressedParts;
        compressedParts = [];
        let text: Buffer | undefined;
        try {
          text = decompress?.(Buffer.concat(parts));
        } catch {
          return;
        }
        if (text && !isUtf8(text)) throw invalid();
        return;
      }
      try {
        decoder.decode();
      } catch {
        throw invalid();
      }
    },
  };
}

/**
 * Follows the envelopes (a flag byte, a 4-byte length, the message) of a
 * body chunk by chunk, and says how many bytes of the envelope still
 * arriving have come: what a reader holds until that message is whole.
 * Given a JSON check, it passes it each message's bytes (not the
 * envelope's header), saying whether they are compressed.
 */
function createEnvelopeTracker(utf8?: JsonCheck) {
  const header = Buffer.alloc(5);
  let headerBytes = 0;
  let remaining = 0;
  let unfinished = 0;
  return {
    advance(chunk: Buffer): number {
      let at = 0;
      while (at < chunk.length) {
        if (headerBytes < 5) {
          const take = Math.min(5 - headerBytes, chunk.length - at);
          chunk.copy(header, headerBytes, at, at + take);
          headerBytes += take;
          unfinished += take;
          at += take;
          if (headerBytes === 5) remaining = header.readUInt32BE(1);
        } else {
          const take = Math.min(remaining, chunk.length - at);
          // Flag bit 0: compressed; bit 1: an end-of-stream frame, not a message.
          const flags = header[0] ?? 0;
          if (utf8 && (flags & 2) === 0) utf8.part(chunk.subarray(at, at + take), (flags & 1) === 1);
          remaining -= take;
          unfinished += take;
          at += take;
        }
        if (headerBytes === 5 && remaining === 0) {
          const flags = header[0] ?? 0;
          if (utf8 && (flags & 2) === 0) utf8.end((flags & 1) === 1);
          headerBytes = 0;
          unfinished = 0;
        }
      }
      return unfinished;
    },
  };
}
