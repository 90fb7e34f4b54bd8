import { KeyProviderError } from "./key-provider-error.js";

/** A discovery document or key set is a few KiB; anything this big is not one. */
const MAX_BODY_BYTES = 1024 * 1024;

/**
 * GETs a JSON document from an identity provider, within `timeoutMs` for
 * the whole answer, body included. Redirects are not followed: the URL is
 * the provider's own, and a key set must not come from wherever a redirect
 * points.
 * @throws KeyProviderError naming the URL and what went wrong
 */
export async function fetchProviderJson(
  url: string,
  timeoutMs: number,
  headers: HeadersInit = { accept: "application/json" },
): Promise<unknown> {
  const signal = AbortSignal.timeout(timeoutMs);
  const late = (cause: unknown) => new KeyProviderError(url, `did not answer within ${timeoutMs} ms`, { cause });
  let response: Response;
  try {
    response = await fetch(url, { headers, redirect: "manual", signal });
  } catch (e) {
    if (signal.aborted) throw late(e);
    throw new KeyProviderError(url, `could not be fetched (${networkReason(e)})`, { cause: e });
  }
  let text: string;
  try {
    if (response.status !== 200) {
      await response.body?.cancel();
      const where = response.headers.get("location");
      throw new KeyProviderError(
        url,
        `answered HTTP ${response.status}, not 200${where ? ` (a redirect to ${where}, which is not followed)` : ""}`,
      );
    }
    text = await readText(response, url);
  } catch (e) {
    if (e instanceof KeyProviderError) throw e;
    if (signal.aborted) throw late(e);
    throw new KeyProviderError(url, `broke off its answer (${networkReason(e)})`, { cause: e });
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    const type = response.headers.get("content-type") ?? "no content type";
    throw new KeyProviderError(url, `answered something that is not JSON (${type})`, { cause: e });
  }
}

async function readText(response: Response, url: string): Promise<string> {
  if (Number(response.headers.get("content-length") ?? 0) > MAX_BODY_BYTES) {
    await response.body?.cancel();
    throw new KeyProviderError(url, `answered more than ${MAX_BODY_BYTES} bytes`);
  }
  if (!response.body) return "";
  const decoder = new TextDecoder();
  let text = "";
  let bytes = 0;
  for await (const chunk of response.body) {
    bytes += chunk.byteLength;
    if (bytes > MAX_BODY_BYTES) {
      throw new KeyProviderError(url, `answered more than ${MAX_BODY_BYTES} bytes`);
    }
    text += decoder.decode(chunk, { stream: true });
  }
  return text + decoder.decode();
}

/** undici's "fetch failed" hides the reason in its cause: "connect ECONNREFUSED …", "other side closed", a TLS error… */
function networkReason(e: unknown): string {
  const cause = e instanceof Error ? e.cause : undefined;
  if (cause instanceof Error) return cause.message || ((cause as NodeJS.ErrnoException).code ?? cause.name);
  return e instanceof Error ? e.message : String(e);
}
