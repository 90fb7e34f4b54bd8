import { randomBytes } from "node:crypto";
import react from "@vitejs/plugin-react";
import { defineConfig, type Plugin } from "vite";
import { securityHeaders } from "../server/src/security-headers.js";

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
 * The dev server sends the production page's security headers, so that a
 * change the policy would block fails here first, plus what development
 * needs: the API on its own origin (VITE_API_URL, as src/api.ts), a trace
 * collector if one is set, and a nonce for the inline code Vite writes
 * into the page (the React refresh preamble, injected CSS). Its HMR
 * socket is on the page's origin, which 'self' covers.
 */
function devSecurityHeaders(nonce: string): Record<string, string> {
  const origins = [process.env.VITE_API_URL || "http://localhost:50051", process.env.VITE_OTEL_EXPORTER_OTLP_ENDPOINT]
    .filter((url): url is string => Boolean(url))
    .map((url) => new URL(url).origin);
  return securityHeaders({ connectSrc: origins, nonce });
}

export default defineConfig(({ command, isPreview }) => {
  const dev = command === "serve" && !isPreview;
  // A new nonce each time the dev server starts; the build has no inline code.
  const nonce = dev ? randomBytes(16).toString("base64") : undefined;
  return {
    plugins: [validateOptionsStub(), react()],
    html: { cspNonce: nonce },
    resolve: {
      // Workspace packages export their TypeScript sources under "source":
      // Vite compiles them directly, no build step in between.
      conditions: ["source"],
    },
    server: {
      port: 5173,
      strictPort: true,
      headers: nonce === undefined ? undefined : devSecurityHeaders(nonce),
    },
  };
});
