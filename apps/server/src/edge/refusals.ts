import { randomUUID } from "node:crypto";
import { codeToString } from "@connectrpc/connect/protocol-connect";
import type { EarlyRefusal } from "@greeter/connect-fast-path";
import type { Logger } from "pino";
import { Counter, type Registry } from "prom-client";

/** At most this many warn lines a second about refused calls; the rest are counted and said in the next one. */
const WARN_LINES_PER_SECOND = 5;

/** A warn line about a refusal, written at most a few times a second. */
export type SampledWarn = (message: string, fields: Record<string, unknown>) => void;

/**
 * A warn logger that writes at most `perSecond` lines a second; the lines
 * it holds back are counted and their number joins the next line written,
 * so that a flood of bad calls does not become a flood of log lines.
 */
export function createSampledWarn(logger: Logger, perSecond = WARN_LINES_PER_SECOND): SampledWarn {
  let windowStart = 0;
  let written = 0;
  let suppressed = 0;
  return (message, fields) => {
    const now = Date.now();
    if (now - windowStart >= 1000) {
      windowStart = now;
      written = 0;
    }
    if (written >= perSecond) {
      suppressed++;
      return;
    }
    written++;
    logger.warn({ ...fields, suppressedSinceLast: suppressed }, message);
    suppressed = 0;
  };
}

/** A call refused before the interceptors ran, with the request id its answer carries. */
export interface RecordedRefusal {
  requestId: string;
  procedure: string;
  protocol: string;
  /** Connect's name of the code, e.g. `invalid_argument`. */
  code: string;
  message: string;
  peer: string;
  /** What lies behind the error, for the log only (a JWT library's own reason, say). */
  cause?: unknown;
}

/** What the server does with calls refused before the interceptors run, which would otherwise leave no trace. */
export interface RefusalReporter {
  /** Counts and logs one. */
  record(refusal: RecordedRefusal): void;
  /** The fast path's `onRefused`: records the refusal and answers with its request id. */
  onRefused(refusal: EarlyRefusal): Record<string, string>;
}

/**
 * Counts refused calls in `greeter_rpc_refused_total` by procedure and
 * code, and logs each at warn (sampled) with the request id its answer
 * carries, so that an operator sees an attack and a client can quote the id.
 */
export function createRefusalReporter(warn: SampledWarn, registry: Registry): RefusalReporter {
  const refused = new Counter({
    name: "greeter_rpc_refused_total",
    help: "Calls refused before the interceptors ran (a broken envelope, a message over the limit, a bad timeout, a spent budget), by procedure and code.",
    labelNames: ["procedure", "code"],
    registers: [registry],
  });
  const record = (refusal: RecordedRefusal): void => {
    refused.inc({ procedure: refusal.procedure, code: refusal.code });
    const { message, cause, ...fields } = refusal;
    const line: Record<string, unknown> = { ...fields, reason: message };
    // As the RPC log line carries a failure's cause: pino's serializer writes its chain.
    if (cause instanceof Error) line.err = cause;
    warn("call refused before the interceptors", line);
  };
  return {
    record,
    onRefused(refusal) {
      const requestId = randomUUID();
      record({
        requestId,
        procedure: refusal.procedure,
        protocol: refusal.protocol,
        code: codeToString(refusal.error.code),
        message: refusal.error.rawMessage,
        peer: refusal.peer,
        cause: refusal.error.cause,
      });
      return { "x-request-id": requestId };
    },
  };
}
