import { existsSync } from "node:fs";
import fastifyStatic from "@fastify/static";
import type { FastifyInstance } from "fastify";

/** Serves the built web app at `/`, so one port is the whole product. */
export async function registerWebApp(app: FastifyInstance, root: string): Promise<void> {
  if (!existsSync(`${root}/index.html`)) {
    throw new Error(`WEB_ROOT=${root} holds no index.html: run \`pnpm build\` first`);
  }
  await app.register(fastifyStatic, {
    root,
    // Only files that exist: unknown paths fall through to the 404 handler.
    wildcard: false,
  });
}
