import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

export default defineConfig({
  plugins: [react()],
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
