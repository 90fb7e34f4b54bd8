import { loadConfig, type ServerConfig } from "../src/config.js";
import { type BuildOptions, buildServer, type GreeterServer } from "../src/server.js";

export { freePort } from "../src/balancer/free-port.js";

export interface TestServer extends GreeterServer {
  /** Base URL on loopback, e.g. `http://127.0.0.1:41234`. */
  readonly url: string;
  readonly port: number;
}

/**
 * A real Greeter server on 127.0.0.1 and a free port, with defaults fit for
 * tests (silent, short grace). Stop it with `close()`. With `adminPort: 0`
 * the admin listener takes a free loopback port too: `adminUrl` says which.
 */
export async function startTestServer(
  overrides: Partial<ServerConfig> = {},
  options: BuildOptions = {},
): Promise<TestServer> {
  const config: ServerConfig = {
    ...loadConfig({}, []),
    port: 0,
    host: "127.0.0.1",
    adminHost: "127.0.0.1",
    logLevel: "silent",
    shutdownGraceMs: 1_000,
    ...overrides,
  };
  const server = await buildServer(config, options);
  const url = await server.listen();
  return Object.assign(server, { url, port: Number(new URL(url).port) });
}

/** A log destination that keeps every line, parsed, for tests to look at. */
export function captureLogs(): { destination: { write(line: string): void }; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  return { destination: { write: (line) => lines.push(JSON.parse(line) as Record<string, unknown>) }, lines };
}
