import { readFileSync } from "node:fs";
import { createRequire } from "node:module";

/** The document `buf generate` writes with our protoc-gen-connect-openapi (see buf.gen.yaml). */
const GENERATED = "@greeter/proto/greeter/v1/greeter.openapi.json";

export interface OpenApiOptions {
  /** AUTH_REQUIRED: every described call needs a bearer token, rather than accepting one. */
  authRequired: boolean;
}

/**
 * The OpenAPI document as served at /openapi.json: the generated one plus
 * what only the running server knows, its authentication. The plugin
 * describes the proto; whether a token is required is configuration.
 */
export function loadOpenApiDocument({ authRequired }: OpenApiOptions): Buffer {
  const path = createRequire(import.meta.url).resolve(GENERATED);
  const document = JSON.parse(readFileSync(path, "utf8")) as {
    components: Record<string, unknown>;
    [key: string]: unknown;
  };
  document.components.securitySchemes = {
    bearer: {
      type: "http",
      scheme: "bearer",
      bearerFormat: "JWT",
      description: "A token with scope greeter.greet, e.g. from `pnpm mint-token`.",
    },
  };
  // An empty requirement makes the token optional: without AUTH_REQUIRED the
  // server accepts calls with or without one (and checks any it gets).
  document.security = authRequired ? [{ bearer: [] }] : [{}, { bearer: [] }];
  return Buffer.from(JSON.stringify(document));
}
