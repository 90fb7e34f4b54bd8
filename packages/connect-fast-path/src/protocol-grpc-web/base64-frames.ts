import { Code, ConnectError } from "@connectrpc/connect";

// Whole base64 quanta only; a padded quantum may end any chunk, since
// grpc-web-text senders may base64 each frame on its own.
const QUANTA = /^(?:[A-Za-z0-9+/]{4}|[A-Za-z0-9+/]{3}=|[A-Za-z0-9+/]{2}==)*$/;

const WHITESPACE = /[\r\n\t ]+/g;

/** Between a padded quantum and the next piece. */
const AFTER_PADDING = /(?<==)(?=[^=])/;

export const malformed = (): ConnectError =>
  new ConnectError("grpc-web-text: the request body is not valid base64", Code.InvalidArgument);

/**
 * Decodes a grpc-web-text body: base64, possibly several padded pieces one
 * after the other, arriving in chunks that may split a quantum. Node's
 * decoder skips characters it does not know, so each piece is checked
 * first: a malformed body fails with INVALID_ARGUMENT instead of turning
 * into different bytes.
 */
export function decodeBase64(text: string): Buffer | ConnectError {
  text = text.replace(WHITESPACE, "");
  if (text.length % 4 !== 0 || !QUANTA.test(text)) return malformed();
  // Node's decoder stops at the first padding: "AA==AA==" would come out as
  // one byte, not two. So each padded piece is decoded on its own.
  const pieces = text.split(AFTER_PADDING);
  return pieces.length === 1 ? Buffer.from(text, "base64") : Buffer.concat(pieces.map((p) => Buffer.from(p, "base64")));
}

/** The same, for a body that arrives in chunks. */
export async function* decodeBase64Stream(chunks: AsyncIterable<Buffer | string>): AsyncIterable<Uint8Array> {
  let pending = "";
  for await (const chunk of chunks) {
    // Line breaks and spaces are not data (base64 tools wrap lines and end with a newline).
    pending += (typeof chunk === "string" ? chunk : chunk.toString("latin1")).replace(WHITESPACE, "");
    const whole = pending.length - (pending.length % 4);
    if (whole > 0) {
      const bytes = decodeBase64(pending.slice(0, whole));
      // An iterable reports its failure the iterable way.
      if (bytes instanceof ConnectError) throw bytes;
      yield bytes;
      pending = pending.slice(whole);
    }
  }
  if (pending !== "") throw malformed();
}
