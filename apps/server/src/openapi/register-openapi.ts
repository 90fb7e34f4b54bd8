import type { FastifyInstance } from "fastify";
import { securityHeaders } from "../security-headers.js";
import { DOCS_PATH, loadDocsAssets } from "./docs-page.js";
import { loadOpenApiDocument } from "./openapi-document.js";

export interface OpenApiRoutesOptions {
  /** OPENAPI: serve /openapi.json. */
  openapi: boolean;
  /** DOCS: serve the docs page at /docs. */
  docs: boolean;
  authRequired: boolean;
}

/** GET /openapi.json and the /docs page, as configured. */
export function registerOpenApi(app: FastifyInstance, options: OpenApiRoutesOptions): void {
  if (options.openapi) {
    const document = loadOpenApiDocument(options);
    app.get("/openapi.json", (_request, reply) => {
      reply.type("application/json; charset=utf-8").send(document);
    });
  }
  if (options.docs) {
    // Swagger UI runs under the page's policy: its files are all served
    // from here (docs-page.ts), and it calls only this origin.
    const headers = securityHeaders();
    for (const [path, asset] of loadDocsAssets()) {
      app.get(`${DOCS_PATH}${path}`, (_request, reply) => {
        reply.headers(headers).type(asset.contentType).header("cache-control", "public, max-age=3600").send(asset.body);
      });
    }
  }
}
