import type { IncomingHttpHeaders } from "node:http";

/** Which browser pages may call, and which response headers they may read. */
export interface CorsPolicy {
  readonly allowedOrigins: readonly string[];
  readonly exposedHeaders: readonly string[];
}

/**
 * The CORS headers an answer from this package needs: nothing for
 * non-browser callers and same-origin pages, the allow/expose headers for
 * an allowed origin, and `undefined` — "hand this request on" — for any
 * other origin, so that the application's own CORS handling (in Greeter,
 * `@fastify/cors`) alone decides what a refused origin gets, preflights
 * included.
 */
export function corsHeaders(headers: IncomingHttpHeaders, policy: CorsPolicy): Record<string, string> | undefined {
  const origin = headers.origin;
  if (origin === undefined) return {};
  const { allowedOrigins } = policy;
  if (allowedOrigins.includes("*") || allowedOrigins.includes(origin)) {
    return { "access-control-allow-origin": origin, vary: "Origin", "access-control-expose-headers": expose(policy) };
  }
  const host = headers.host ?? headers[":authority"];
  if (host !== undefined && (origin === `http://${host}` || origin === `https://${host}`)) return {};
  return undefined;
}

const joined = new WeakMap<CorsPolicy, string>();

function expose(policy: CorsPolicy): string {
  let header = joined.get(policy);
  if (header === undefined) {
    header = policy.exposedHeaders.join(", ");
    joined.set(policy, header);
  }
  return header;
}
