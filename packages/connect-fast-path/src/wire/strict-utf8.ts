import { isUtf8 } from "node:buffer";
import { Code, ConnectError } from "@connectrpc/connect";

/**
 * The text of a JSON message, refusing bytes that are not UTF-8. Node's own
 * decoding (and connect-node's) replaces them with U+FFFD, so a name sent
 * as `A\xff\xfeB` would be greeted as "A��B": a service must not change
 * what a client sent and call it a success. The binary codec refuses the
 * same bytes in a string field (protobuf-es checks), so JSON does too.
 */
export function strictUtf8(bytes: Uint8Array): string {
  if (!isUtf8(bytes)) throw new ConnectError("the JSON message is not valid UTF-8", Code.InvalidArgument);
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("utf8");
}
