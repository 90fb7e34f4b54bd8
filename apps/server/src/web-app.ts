import { existsSync } from "node:fs";
import fastifyStatic from "@fastify/static";
import type { FastifyInstance } from "fastify";
import { securityHeaders } from "./security-headers.js";

/** The page's icon, which the build copies from apps/web/public. */
const FAVICON = "favicon.svg";

/**
 * Serves the built web app at `/`, so one port is the whole product, with
 * the security headers on every file (they cost nothing on a script or an
 * image and matter on the page).
 */
export async function registerWebApp(app: FastifyInstance, root: string): Promise<void> {
  if (!existsSync(`${root}/index.html`)) {
    throw new Error(`WEB_ROOT=${root} holds no index.html: run \`pnpm build\` first`);
  }
  const headers = securityHeaders();
  await app.register(fastifyStatic, {
    root,
    // Only files that exist: unknown paths fall through to the 404 handler.
    wildcard: false,
    setHeaders(reply) {
      reply.headers(headers);
    },
  });
  // The page links its SVG icon, but a browser opening anything else here
  // (/docs' JSON, a bookmark) still asks for /favicon.ico: the same icon
  // rather than a 404 in its console.
  if (existsSync(`${root}/${FAVICON}`)) {
    app.get("/favicon.ico", (_request, reply) => reply.sendFile(FAVICON));
  }
}
