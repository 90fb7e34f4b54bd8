import type { RefusedCall } from "@greeter/connect-server";
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

/** What the server does with calls refused before the interceptors run, which would otherwise leave no trace. */
export interface RefusalReporter {
  /** Counts and logs one: `@greeter/connect-server`'s `onRefused`, for both paths. */
  record(refusal: RefusedCall): void;
}

/**
 * Counts refused calls in `greeter_rpc_refused_total` by procedure and
 * code, and logs each at warn (sampled) with the request id its answer
 * carries, so that an operator sees an attack and a client can quote the
 * id; the cause behind the error (a JWT library's reason, say) goes to the
 * line's `err`, as the RPC log line carries a failure's cause.
 */
export function createRefusalReporter(warn: SampledWarn, registry: Registry): RefusalReporter {
  const refused = new Counter({
    name: "greeter_rpc_refused_total",
    help: "Calls refused before the interceptors ran (the request gate, a broken envelope, a message over the limit, a bad timeout, a spent budget), by procedure and code.",
    labelNames: ["procedure", "code"],
    registers: [registry],
  });
  return {
    record(refusal) {
      refused.inc({ procedure: refusal.procedure, code: refusal.code });
      const { message, cause, ...fields } = refusal;
      const line: Record<string, unknown> = { ...fields, reason: message };
      if (cause instanceof Error) line.err = cause;
      warn("call refused before the interceptors", line);
    },
  };
}
