import type { ConnectError } from "@connectrpc/connect";
import { messageTooLarge } from "../wire/envelopes.js";
import type { FastRequest } from "../wire/exchange.js";
import { tooLarge } from "./limits.js";
import { BodyHold, budgetSpent, type RequestBudget, UNCOUNTED_BYTES } from "./request-budget.js";

const joined = (chunks: Buffer[]): Buffer => (chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks));

/**
 * Reads a request body of at most `maxBytes`, then calls `done` once: with
 * the bytes, or with RESOURCE_EXHAUSTED as soon as the limit or a budget is
 * passed.
 */
export function readBody(
  req: FastRequest,
  maxBytes: number,
  budget: RequestBudget | undefined,
  done: (body: Buffer | ConnectError) => void,
): void {
  const chunks: Buffer[] = [];
  let size = 0;
  let over = false;
  let hold: BodyHold | undefined;
  const refuse = (error: ConnectError): void => {
    over = true;
    hold?.release();
    chunks.length = 0;
    done(error);
  };
  req.on("data", (chunk: Buffer) => {
    if (over) return;
    size += chunk.length;
    if (size > maxBytes) return refuse(tooLarge(maxBytes));
    chunks.push(chunk);
    if (budget && size > UNCOUNTED_BYTES) {
      hold ??= new BodyHold(req, budget);
      const spent = hold.grow(size);
      if (spent) refuse(budgetSpent(spent));
    }
  });
  req.once("end", () => {
    if (over) return;
    hold?.release();
    const body = joined(chunks);
    // The stream keeps this listener's closure until it is collected: let
    // the body go with the call, not with the stream.
    chunks.length = 0;
    done(body);
  });
}

/**
 * Reads a body of length-prefixed envelopes, calling `done` once. Like
 * connect-node, it looks at each envelope's declared length as soon as its
 * header is in, and fails with RESOURCE_EXHAUSTED when it is over
 * `readMaxBytes`, however few bytes follow; it stops at the end of a second
 * whole envelope, which is enough for parseSingleEnvelope to refuse it.
 * Past a few KiB, what it holds counts against `budget`.
 */
export function readEnvelopedBody(
  req: FastRequest,
  readMaxBytes: number,
  budget: RequestBudget | undefined,
  done: (body: Buffer | ConnectError) => void,
): void {
  const chunks: Buffer[] = [];
  let size = 0;
  let finished = false;
  let nextHeader = 0;
  let headersSeen = 0;
  let hold: BodyHold | undefined;
  const finish = (result: Buffer | ConnectError): void => {
    if (finished) return;
    finished = true;
    hold?.release();
    // As in readBody: the stream's listener must not keep the body.
    chunks.length = 0;
    done(result);
  };
  req.on("data", (chunk: Buffer) => {
    if (finished) return;
    chunks.push(chunk);
    size += chunk.length;
    while (headersSeen < 2 && nextHeader + 5 <= size) {
      const length = uint32At(chunks, nextHeader + 1);
      if (length > readMaxBytes) {
        finish(messageTooLarge(length, readMaxBytes));
        return;
      }
      nextHeader += 5 + length;
      headersSeen++;
    }
    if (headersSeen === 2 && size >= nextHeader) {
      finish(joined(chunks));
      return;
    }
    if (budget && size > UNCOUNTED_BYTES) {
      hold ??= new BodyHold(req, budget);
      const spent = hold.grow(size);
      if (spent) finish(budgetSpent(spent));
    }
  });
  req.once("end", () => {
    if (!finished) finish(joined(chunks));
  });
}

/** The big-endian uint32 at `offset` of the bytes the chunks hold one after another. */
function uint32At(chunks: readonly Buffer[], offset: number): number {
  const first = chunks[0];
  if (first && offset + 4 <= first.length) return first.readUInt32BE(offset);
  let value = 0;
  for (let i = 0; i < 4; i++) value = value * 256 + byteAt(chunks, offset + i);
  return value;
}

function byteAt(chunks: readonly Buffer[], offset: number): number {
  let at = offset;
  for (const chunk of chunks) {
    if (at < chunk.length) return chunk[at] as number;
    at -= chunk.length;
  }
  return 0;
}
