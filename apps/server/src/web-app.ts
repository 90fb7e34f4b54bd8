import { existsSync, readFileSync } from "node:fs";
import fastifyStatic from "@fastify/static";
import type { FastifyInstance } from "fastify";
import { CONNECT_SRC_FILE, securityHeaders } from "./security-headers.js";

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
  const headers = securityHeaders({ connectSrc: connectSrcOf(root) });
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

/** The origins the build says the page calls besides its own; none if it says nothing. */
function connectSrcOf(root: string): string[] {
  const path = `${root}/${CONNECT_SRC_FILE}`;
  if (!existsSync(path)) return [];
  const origins: unknown = JSON.parse(readFileSync(path, "utf8"));
  // A policy is a header: a value with a ';' or a newline would be another directive.
  const isOrigin = (o: unknown) => typeof o === "string" && URL.canParse(o) && new URL(o).origin === o;
  if (!Array.isArray(origins) || !origins.every(isOrigin)) {
    throw new Error(`WEB_ROOT=${root}: ${CONNECT_SRC_FILE} must be a JSON list of origins (rebuild the page)`);
  }
  return origins as string[];
}
