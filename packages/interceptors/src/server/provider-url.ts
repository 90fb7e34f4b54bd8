const LOOPBACK = new Set(["localhost", "127.0.0.1", "[::1]"]);

/**
 * Checks a URL keys are fetched from (a JWKS, a discovery document, an
 * issuer): https, or plain http only to this machine (a provider on
 * loopback, in development and tests). Keys fetched over plain http from
 * elsewhere could be swapped on the way, and with them anyone could sign
 * tokens this server accepts.
 * @throws Error saying what is wrong with it
 */
export function checkProviderUrl(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new Error("is not a URL");
  }
  if (url.protocol === "https:") return url;
  if (url.protocol === "http:" && LOOPBACK.has(url.hostname)) return url;
  throw new Error("must be an https URL (plain http only to localhost)");
}
