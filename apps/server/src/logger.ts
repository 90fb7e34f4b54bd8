import { type DestinationStream, type Logger, pino } from "pino";
import type { ServerConfig } from "./config.js";
import { createStdoutDestination } from "./log-destination.js";

/**
 * The server's one pino logger: Fastify logs through it and so does the RPC
 * logging interceptor. Made before Fastify because the fast path, built
 * while Fastify makes its server, needs it too. Tests pass a `destination`
 * to read the lines.
 */
export function createLogger(
  config: Pick<ServerConfig, "logLevel" | "logFormat">,
  destination?: DestinationStream,
): Logger {
  // No pino `redact`: with wildcard paths it was a fifth of a logged call's
  // cost. Secrets stay out because nothing logs headers wholesale: the RPC
  // log line picks its fields and never reads authorization.
  if (destination) return pino({ level: config.logLevel }, destination);
  if (config.logFormat === "pretty") {
    return pino({
      level: config.logLevel,
      transport: { target: "pino-pretty", options: { translateTime: "HH:MM:ss", ignore: "pid,hostname" } },
    });
  }
  return pino({ level: config.logLevel }, createStdoutDestination());
}
