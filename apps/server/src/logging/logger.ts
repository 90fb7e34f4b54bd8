import { hostname } from "node:os";
import type { RpcLogger } from "@greeter/interceptors/server";
import { type DestinationStream, type Logger, pino } from "pino";
import type { ServerConfig } from "../config.js";
import { createStdoutDestination } from "./log-destination.js";
import { createRpcLogWriter } from "./rpc-log-writer.js";

/** The server's loggers: pino for everything, and the RPC log line's writer. */
export interface ServerLoggers {
  /** Fastify logs through it, and the RPC log line's exceptions. */
  logger: Logger;
  /** For the RPC logging interceptor (see rpc-log-writer.ts). */
  rpc: RpcLogger;
}

/**
 * The server's one pino logger, and the RPC log line's writer on the same
 * destination. Made before Fastify because the fast path, built while
 * Fastify makes its server, needs them too. Tests pass a `destination` to
 * read the lines.
 */
export function createLoggers(
  config: Pick<ServerConfig, "logLevel" | "logFormat">,
  destination?: DestinationStream,
): ServerLoggers {
  if (config.logFormat === "pretty" && !destination) {
    const logger = pino({
      level: config.logLevel,
      transport: { target: "pino-pretty", options: { translateTime: "HH:MM:ss", ignore: "pid,hostname" } },
    });
    return { logger, rpc: logger };
  }
  const to = destination ?? createStdoutDestination();
  // pino's own default bindings, given explicitly so the RPC writer writes the same.
  const base = { pid: process.pid, hostname: hostname() };
  // No pino `redact`: with wildcard paths it was a fifth of a logged call's
  // cost. Secrets stay out because nothing logs headers wholesale: the RPC
  // log line picks its fields and never reads authorization.
  const logger = pino({ level: config.logLevel, base }, to);
  return { logger, rpc: createRpcLogWriter(logger, to, base) };
}
