import { Code, ConnectError } from "@connectrpc/connect";

// Base64 in the standard or the URL alphabet, with or without padding, as
// Connect GET's `message` may be with `base64=1`.
const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;

/** Whether Connect GET's `message` parameter is base64 that decodes whole. */
export function isBase64(message: string): boolean {
  return BASE64.test(message) && message.replace(/=+$/, "").length % 4 !== 1;
}

/** INVALID_ARGUMENT for a `base64=1` message that is not base64. */
export const notBase64 = (): ConnectError =>
  new ConnectError("the message query parameter is not base64, though base64=1 says it is", Code.InvalidArgument);
