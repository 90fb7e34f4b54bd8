import { KeyProviderError } from "./key-provider-error.js";
import { fetchProviderJson } from "./provider-fetch.js";
import { checkProviderUrl } from "./provider-url.js";

/**
 * The JWKS URL an OpenID provider publishes (OpenID Connect Discovery 1.0):
 * fetches `{issuer}/.well-known/openid-configuration` (a trailing `/` of the
 * issuer dropped first, §4) and takes its `jwks_uri`. The document's
 * `issuer` must be exactly `issuer` (§4.3): otherwise the document is
 * another provider's, and so would be its keys.
 * @throws KeyProviderError naming the document's URL and what went wrong
 */
export async function discoverJwksUrl(issuer: string, timeoutMs: number): Promise<URL> {
  const url = `${issuer.replace(/\/$/, "")}/.well-known/openid-configuration`;
  const document = await fetchProviderJson(url, timeoutMs);
  if (typeof document !== "object" || document === null || Array.isArray(document)) {
    throw new KeyProviderError(url, "answered JSON that is not an OpenID configuration (not an object)");
  }
  const { issuer: stated, jwks_uri: jwksUri } = document as Record<string, unknown>;
  if (stated !== issuer) {
    throw new KeyProviderError(
      url,
      `names the issuer ${JSON.stringify(stated)}, not ${JSON.stringify(issuer)} (the configured issuer must be exactly the provider's, trailing slash included)`,
    );
  }
  if (typeof jwksUri !== "string") throw new KeyProviderError(url, "has no jwks_uri");
  try {
    return checkProviderUrl(jwksUri);
  } catch (e) {
    throw new KeyProviderError(url, `has a jwks_uri ${JSON.stringify(jwksUri)} that ${(e as Error).message}`);
  }
}
