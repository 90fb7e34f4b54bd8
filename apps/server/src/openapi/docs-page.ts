import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

/**
 * The /docs page: Swagger UI (swagger-ui-dist, maintained by SmartBear)
 * reading /openapi.json. Every file comes from the npm package and is
 * served from this port, so the page works with no internet access.
 */
export const DOCS_PATH = "/docs";

const PAGE = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>Greeter API</title>
    <link rel="stylesheet" href="${DOCS_PATH}/swagger-ui.css" />
    <link rel="icon" type="image/png" href="${DOCS_PATH}/favicon-32x32.png" />
  </head>
  <body>
    <div id="swagger-ui"></div>
    <script src="${DOCS_PATH}/swagger-ui-bundle.js"></script>
    <script src="${DOCS_PATH}/docs.js"></script>
  </body>
</html>
`;

// A separate file rather than an inline script, so a strict
// Content-Security-Policy in front of the server needs no exception.
const INIT_SCRIPT = `window.ui = SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  // Every operation is a real call to this server: open "Try it out" at once.
  tryItOutEnabled: true,
  persistAuthorization: true,
  // No badge from validator.swagger.io: the page calls this server only
  // (its Content-Security-Policy says so) and works offline.
  validatorUrl: null,
});
`;

export interface DocsAsset {
  contentType: string;
  body: Buffer;
}

/** The page and its assets by path under /docs, read once at start-up. */
export function loadDocsAssets(): Map<string, DocsAsset> {
  const dist = dirname(createRequire(import.meta.url).resolve("swagger-ui-dist/package.json"));
  const file = (name: string) => readFileSync(join(dist, name));
  return new Map<string, DocsAsset>([
    ["", { contentType: "text/html; charset=utf-8", body: Buffer.from(PAGE) }],
    ["/", { contentType: "text/html; charset=utf-8", body: Buffer.from(PAGE) }],
    ["/docs.js", { contentType: "text/javascript; charset=utf-8", body: Buffer.from(INIT_SCRIPT) }],
    ["/swagger-ui.css", { contentType: "text/css; charset=utf-8", body: file("swagger-ui.css") }],
    ["/swagger-ui-bundle.js", { contentType: "text/javascript; charset=utf-8", body: file("swagger-ui-bundle.js") }],
    ["/favicon-32x32.png", { contentType: "image/png", body: file("favicon-32x32.png") }],
  ]);
}
