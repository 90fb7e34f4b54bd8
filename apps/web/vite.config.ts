import react from "@vitejs/plugin-react";
import { defineConfig, type Plugin } from "vite";

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

export default defineConfig({
  plugins: [validateOptionsStub(), react()],
  resolve: {
    // Workspace packages export their TypeScript sources under "source":
    // Vite compiles them directly, no build step in between.
    conditions: ["source"],
  },
  server: {
    port: 5173,
    strictPort: true,
  },
});
