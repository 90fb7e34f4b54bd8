import { fileURLToPath } from "node:url";
import { freePort, startTestServer, type TestServer } from "@greeter/server/testing";
import { createServer as createViteServer, type ViteDevServer } from "vite";

const webRoot = fileURLToPath(new URL("..", import.meta.url));

/** The stack as `pnpm dev` runs it: the API, and Vite's dev server on another origin that it allows. */
export interface DevStack {
  server: TestServer;
  vite: ViteDevServer;
  /** The page's origin, e.g. `http://127.0.0.1:41234`. */
  origin: string;
  close(): Promise<void>;
}

/** Starts the API and Vite's dev server on free loopback ports; `close()` stops both. */
export async function startDevStack(): Promise<DevStack> {
  const vitePort = await freePort();
  const origin = `http://127.0.0.1:${vitePort}`;
  const server = await startTestServer({ corsOrigins: [origin] });
  // Read by vite.config.ts (the policy's connect-src) and src/api.ts.
  process.env.VITE_API_URL = server.url;
  const vite = await createViteServer({
    root: webRoot,
    logLevel: "silent",
    server: { port: vitePort, host: "127.0.0.1", strictPort: true },
  });
  await vite.listen();
  return {
    server,
    vite,
    origin,
    async close() {
      await vite.close();
      await server.close();
      delete process.env.VITE_API_URL;
    },
  };
}
