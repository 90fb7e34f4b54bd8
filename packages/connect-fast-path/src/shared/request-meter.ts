import type { IncomingMessage } from "node:http";
import type { Http2ServerRequest } from "node:http2";
import { Code, ConnectError } from "@connectrpc/connect";
import { budgetSpent, type RequestBudget } from "./unary-call.js";

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
 * if not), which connect-node's decoding would instead patch with U+FFFD.
 */
export function meterRequestBody(req: IncomingMessage | Http2ServerRequest, budget: RequestBudget): void {
  const connection: object = "stream" in req ? (req.stream.session ?? req.stream) : req.socket;
  const contentType = req.headers["content-type"] ?? "";
  const enveloped = !CONNECT_UNARY.test(contentType);
  // A compressed Connect unary body is checked by nobody until connect-node
  // decompresses it (enveloped ones say so per message, see below).
  const encoding = req.headers["content-encoding"];
  const compressed = !enveloped && encoding !== undefined && encoding !== "identity";
  const json = JSON_MESSAGES.test(contentType) && !compressed;
  const original = req.iterator.bind(req);
  req.iterator = (options) => metered(original(options), connection, budget, enveloped, json);
}

async function* metered(
  source: AsyncIterable<Buffer>,
  connection: object,
  budget: RequestBudget,
  enveloped: boolean,
  json: boolean,
): AsyncGenerator<Buffer, undefined> {
  const utf8 = json ? createUtf8Check() : undefined;
  const envelope = createEnvelopeTracker(utf8);
  let held = 0;
  try {
    for await (const chunk of source) {
      if (utf8 && !enveloped) utf8.part(chunk);
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
    if (utf8 && !enveloped) utf8.end();
  } finally {
    budget.release(connection, held);
  }
  return undefined;
}

/** Checks a message's bytes, given in parts, to be UTF-8; throws INVALID_ARGUMENT where they are not. */
function createUtf8Check() {
  const decoder = new TextDecoder("utf-8", { fatal: true });
  const invalid = () => new ConnectError("the JSON message is not valid UTF-8", Code.InvalidArgument);
  return {
    part(bytes: Uint8Array): void {
      try {
        decoder.decode(bytes, { stream: true });
      } catch {
        throw invalid();
      }
    },
    /** The message is over: a sequence cut short at its end is invalid too. */
    end(): void {
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
 * Given a UTF-8 check, it passes it each message's bytes (not the
 * envelope's header, and not a compressed message's).
 */
function createEnvelopeTracker(utf8?: ReturnType<typeof createUtf8Check>) {
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
          // Flag bit 0: compressed, checked by nobody until connect-node
          // decompresses it; bit 1: an end-of-stream frame, JSON of its own.
          if (utf8 && (header[0] ?? 0) === 0) utf8.part(chunk.subarray(at, at + take));
          remaining -= take;
          unfinished += take;
          at += take;
        }
        if (headerBytes === 5 && remaining === 0) {
          if (utf8 && (header[0] ?? 0) === 0) utf8.end();
          headerBytes = 0;
          unfinished = 0;
        }
      }
      return unfinished;
    },
  };
}
