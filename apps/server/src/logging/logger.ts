import { hostname } from "node:os";
import type { RpcLogger } from "@greeter/interceptors/server";
import { type DestinationStream, type Logger, pino } from "pino";
import type { ServerConfig } from "../config.js";
import { createStdoutDestination } from "./log-destination.js";
import { createLogOutput, type LogOutput } from "./log-output.js";
import { createRpcLogWriter } from "./rpc-log-writer.js";

/** The server's loggers: pino for everything, and the RPC log line's writer. */
export interface ServerLoggers {
  /** Fastify logs through it, and the RPC log line's exceptions. */
  logger: Logger;
  /** For the RPC logging interceptor (see rpc-log-writer.ts). */
  rpc: RpcLogger;
  /** Stdout's writer, when the lines go there as JSON: its counts are in /metrics. */
  output?: LogOutput;
}

/**
 * The server's one pino logger, and the RPC log line's writer on the same
 * destination. Made before Fastify because the fast path, built while
 * Fastify makes its server, needs them too. Tests pass a `destination` to
 * read the lines.
 */
export function createLoggers(
  config: Pick<ServerConfig, "logLevel" | "logFormat"> & Partial<Pick<ServerConfig, "logQueueBytes">>,
  destination?: DestinationStream,
): ServerLoggers {
  if (config.logFormat === "pretty" && !destination) {
    const logger = pino({
      level: config.logLevel,
      transport: { target: "pino-pretty", options: { translateTime: "HH:MM:ss", ignore: "pid,hostname" } },
    });
    return { logger, rpc: logger };
  }
  let output: LogOutput | undefined;
  let to = destination;
  if (!to) {
    output = createLogOutput({
      maxQueuedBytes: config.logQueueBytes,
      onCaughtUp: (dropped) => reportDropped(logger, dropped),
    });
    to = createStdoutDestination(output);
  }
  // pino's own default bindings, given explicitly so the RPC writer writes the same.
  const base = { pid: process.pid, hostname: hostname() };
  // No pino `redact`: with wildcard paths it was a fifth of a logged call's
  // cost. Secrets stay out because nothing logs headers wholesale: the RPC
  // log line picks its fields and never reads authorization.
  const logger = pino({ level: config.logLevel, base }, to);
  return { logger, rpc: createRpcLogWriter(logger, to, base), output };
}

function reportDropped(logger: Logger, dropped: { lines: number; bytes: number }): void {
  logger.warn(
    { droppedLines: dropped.lines, droppedBytes: dropped.bytes },
    "log lines were dropped: stdout was not read as fast as they were written",
  );
}
