import { type AddressInfo, createServer as createNetServer } from "node:net";
import { loadConfig, type ServerConfig } from "./config.js";
import { type BuildOptions, buildServer, type GreeterServer } from "./server.js";

export interface TestServer extends GreeterServer {
  /** Base URL on loopback, e.g. `http://127.0.0.1:41234`. */
  readonly url: string;
  readonly port: number;
}

/**
 * A real Greeter server on 127.0.0.1 and a free port, with defaults fit for
 * tests (silent, short grace). Stop it with `close()`.
 */
export async function startTestServer(
  overrides: Partial<ServerConfig> = {},
  options: BuildOptions = {},
): Promise<TestServer> {
  const config: ServerConfig = {
    ...loadConfig({}, []),
    port: 0,
    host: "127.0.0.1",
    logLevel: "silent",
    shutdownGraceMs: 1_000,
    ...overrides,
  };
  const server = await buildServer(config, options);
  const url = await server.listen();
  return Object.assign(server, { url, port: Number(new URL(url).port) });
}

/** A TCP port that was free a moment ago, for tools that cannot listen on port 0 and report back. */
export async function freePort(): Promise<number> {
  const server = createNetServer();
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** A log destination that keeps every line, parsed, for tests to look at. */
export function captureLogs(): { destination: { write(line: string): void }; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  return { destination: { write: (line) => lines.push(JSON.parse(line) as Record<string, unknown>) }, lines };
}
