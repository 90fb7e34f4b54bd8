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

/**
 * The bytes of a query parameter as the client sent them: `+` as a space,
 * `%XX` as that byte, any other character as the byte Node read it from. URLSearchParams would decode them as UTF-8 and
 * replace what is not with U+FFFD, so a JSON message of bytes that are not
 * UTF-8 could not be told from one that holds U+FFFD. Undefined if absent.
 */
export function rawQueryParam(search: string, name: string): Buffer | undefined {
  for (const pair of search.split("&")) {
    const eq = pair.indexOf("=");
    const key = eq < 0 ? pair : pair.slice(0, eq);
    if (key !== name) continue;
    const value = eq < 0 ? "" : pair.slice(eq + 1).replaceAll("+", " ");
    const bytes: number[] = [];
    for (let i = 0; i < value.length; i++) {
      const hex = value[i] === "%" ? value.slice(i + 1, i + 3) : "";
      if (/^[0-9a-fA-F]{2}$/.test(hex)) {
        bytes.push(Number.parseInt(hex, 16));
        i += 2;
      } else {
        // Node gives a URL's raw bytes one character each (latin1).
        bytes.push(value.charCodeAt(i) & 0xff);
      }
    }
    return Buffer.from(bytes);
  }
  return undefined;
}
