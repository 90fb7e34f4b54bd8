import { type DestinationStream, type Logger, pino } from "pino";
import type { ServerConfig } from "./config.js";

// Defence in depth: nothing logs headers today, but if someone does, credentials stay out.
const REDACT = { paths: ["*.authorization", "*.headers.authorization", "*.cookie"], censor: "[redacted]" };

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
  if (destination) return pino({ level: config.logLevel, redact: REDACT }, destination);
  return pino({
    level: config.logLevel,
    redact: REDACT,
    ...(config.logFormat === "pretty" && {
      transport: { target: "pino-pretty", options: { translateTime: "HH:MM:ss", ignore: "pid,hostname" } },
    }),
  });
}
