import type { IncomingHttpHeaders } from "node:http";
import { EXPOSED_HEADERS } from "../cors.js";

const EXPOSE = EXPOSED_HEADERS.join(", ");

/**
 * The CORS headers a fast-path answer needs, with the same rules as
 * `@fastify/cors` in cors.ts: nothing for non-browser callers and same-origin
 * pages, the allow/expose headers for an allowed origin, and `undefined` —
 * "leave this request to Fastify" — for any other origin, so the one
 * reference implementation decides what a refused origin gets.
 */
export function corsHeaders(
  headers: IncomingHttpHeaders,
  allowedOrigins: readonly string[],
): Record<string, string> | undefined {
  const origin = headers.origin;
  if (origin === undefined) return {};
  if (allowedOrigins.includes("*") || allowedOrigins.includes(origin)) {
    return { "access-control-allow-origin": origin, vary: "Origin", "access-control-expose-headers": EXPOSE };
  }
  const host = headers.host ?? headers[":authority"];
  if (host !== undefined && (origin === `http://${host}` || origin === `https://${host}`)) return {};
  return undefined;
}
