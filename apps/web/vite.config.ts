import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import react from "@vitejs/plugin-react";
import { defineConfig, loadEnv, type Plugin } from "vite";
import { CONNECT_SRC_FILE, securityHeaders } from "../server/src/security-headers.js";

const VALIDATE_PB = "@bufbuild/protovalidate/gen/buf/validate/validate_pb.js";

/**
 * The generated Greeter code imports protovalidate's rule schema because
 * greeter.proto names it; the page needs only the file's name from it (see
 * src/validate-options-stub.ts). Anywhere else, the real file.
 */
function validateOptionsStub(): Plugin {
  const stub = new URL("src/validate-options-stub.ts", import.meta.url).pathname;
  return {
    name: "greeter-validate-options-stub",
    enforce: "pre",
    resolveId(source, importer) {
      return source === VALIDATE_PB && importer && /greeter_pb\.[jt]s$/.test(importer) ? stub : null;
    },
  };
}

/**
 * The origins the page calls besides its own, from the settings src/api.ts
 * and src/tracing.ts read: the API (in development the Greeter server on
 * its own port; a production build calls its own origin unless
 * VITE_API_URL says otherwise) and a trace collector, if one is set.
 */
function otherOrigins(env: Record<string, string>, dev: boolean): string[] {
  const api = env.VITE_API_URL || (dev ? "http://localhost:50051" : "");
  return [api, env.VITE_OTEL_EXPORTER_OTLP_ENDPOINT]
    .filter((url): url is string => Boolean(url))
    .map((url) => new URL(url).origin);
}

/** Writes those origins into the build, for the policy the Greeter server sends with it (web-app.ts). */
function connectSrcFile(origins: string[]): Plugin {
  return {
    name: "greeter-connect-src",
    apply: "build",
    generateBundle() {
      this.emitFile({ type: "asset", fileName: CONNECT_SRC_FILE, source: `${JSON.stringify(origins)}\n` });
    },
  };
}

export default defineConfig(({ command, isPreview, mode }) => {
  const dev = command === "serve" && !isPreview;
  const origins = otherOrigins(loadEnv(mode, fileURLToPath(new URL(".", import.meta.url)), "VITE_"), dev);
  // A new nonce each time the dev server starts; the build has no inline code.
  const nonce = dev ? randomBytes(16).toString("base64") : undefined;
  return {
    plugins: [validateOptionsStub(), react(), connectSrcFile(origins)],
    html: { cspNonce: nonce },
    resolve: {
      // Workspace packages export their TypeScript sources under "source":
      // Vite compiles them directly, no build step in between.
      conditions: ["source"],
    },
    server: {
      port: 5173,
      strictPort: true,
      // The production page's policy, so that a change it would block fails
      // here first, plus the API's origin and a nonce for the inline code
      // Vite writes into the page (the React refresh preamble, injected
      // CSS). Vite's HMR socket is on the page's origin: 'self' covers it.
      headers: nonce === undefined ? undefined : securityHeaders({ connectSrc: origins, nonce }),
    },
  };
});
