import { cors as connectCors } from "@connectrpc/connect";
import fastifyCors from "@fastify/cors";
import type { FastifyInstance } from "fastify";

/** Response headers a page may read: gRPC-Web trailers, Connect's headers, our request id. */
export const EXPOSED_HEADERS: readonly string[] = [...connectCors.exposedHeaders, "x-request-id"];

/**
 * Request headers a page may send besides connect's: the request id, who is
 * calling (the client metadata interceptor), the access token, and W3C
 * trace context.
 */
export const ALLOWED_REQUEST_HEADERS: readonly string[] = [
  ...connectCors.allowedHeaders,
  "x-request-id",
  "x-client-name",
  "x-client-version",
  "x-client-device",
  "x-client-os",
  "authorization",
  "traceparent",
  "tracestate",
];

/**
 * Lets browsers on the given origins call every protocol. The header lists
 * come from connect-es, so that gRPC-Web trailers (`grpc-status`,
 * `grpc-message`) and Connect's headers are readable by the page.
 */
export async function registerCors(app: FastifyInstance, origins: readonly string[]): Promise<void> {
  if (origins.length === 0) return;
  await app.register(fastifyCors, {
    origin: origins.includes("*") ? true : [...origins],
    methods: [...connectCors.allowedMethods],
    allowedHeaders: [...ALLOWED_REQUEST_HEADERS],
    exposedHeaders: [...EXPOSED_HEADERS],
    // Browsers cap it lower (Chromium: 2 h); asking for more is harmless.
    maxAge: 7200,
  });
}
