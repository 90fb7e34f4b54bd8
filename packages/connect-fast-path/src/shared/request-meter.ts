import type { IncomingMessage } from "node:http";
import type { Http2ServerRequest } from "node:http2";
import { budgetSpent, type RequestBudget } from "./unary-call.js";

/** Connect's unary content types: the body is one message, not envelopes. */
const CONNECT_UNARY = /^application\/(proto|json)(;|$)/i;

/**
 * Makes connect-node count what it holds of a request's unfinished message
 * against `budget`, as the fast path does: connect-node reads a request
 * through `req.iterator()` (connect-es's `universalRequestFromNodeRequest`),
 * so the meter sits there, on this one request. For enveloped bodies (gRPC,
 * gRPC-Web, Connect streams) only the envelope still arriving counts, so an
 * upload of many messages costs one message at a time; a Connect unary body
 * counts whole until it ends. Past the budget, reading fails with
 * RESOURCE_EXHAUSTED, which connect-node answers as the call's status.
 */
export function meterRequestBody(req: IncomingMessage | Http2ServerRequest, budget: RequestBudget): void {
  const connection: object = "stream" in req ? (req.stream.session ?? req.stream) : req.socket;
  const enveloped = !CONNECT_UNARY.test(req.headers["content-type"] ?? "");
  const original = req.iterator.bind(req);
  req.iterator = (options) => metered(original(options), connection, budget, enveloped);
}

async function* metered(
  source: AsyncIterable<Buffer>,
  connection: object,
  budget: RequestBudget,
  enveloped: boolean,
): AsyncGenerator<Buffer, undefined> {
  const envelope = createEnvelopeTracker();
  let held = 0;
  try {
    for await (const chunk of source) {
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
  } finally {
    budget.release(connection, held);
  }
  return undefined;
}

/**
 * Follows the envelopes (a flag byte, a 4-byte length, the message) of a
 * body chunk by chunk, and says how many bytes of the envelope still
 * arriving have come: what a reader holds until that message is whole.
 */
function createEnvelopeTracker() {
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
          remaining -= take;
          unfinished += take;
          at += take;
        }
        if (headerBytes === 5 && remaining === 0) {
          headerBytes = 0;
          unfinished = 0;
        }
      }
      return unfinished;
    },
  };
}
