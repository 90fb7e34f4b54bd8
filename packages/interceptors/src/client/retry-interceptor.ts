import { MethodOptions_IdempotencyLevel } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";

export interface RetryOptions {
  /**
   * Attempts in all, the first one included.
   * @default 4
   */
  maxAttempts?: number;
  /**
   * Pause before the first retry; each later one is `multiplier` times
   * longer, up to `maxBackoffMs`.
   * @default 100
   */
  initialBackoffMs?: number;
  /** @default 2_000 */
  maxBackoffMs?: number;
  /** @default 2 */
  multiplier?: number;
  /**
   * Each pause is spread by ±this fraction, so that clients that failed
   * together do not come back together.
   * @default 0.2
   */
  jitter?: number;
}

const DEFAULTS: Required<RetryOptions> = {
  maxAttempts: 4,
  initialBackoffMs: 100,
  maxBackoffMs: 2_000,
  multiplier: 2,
  jitter: 0.2,
};

/** Where a server says how long to wait before a retry (gRPC's retry pushback). */
const PUSHBACK_HEADER = "grpc-retry-pushback-ms";

/** Node error codes meaning the request never reached a server, so any call may be sent again. */
const NOT_SENT_CODES = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN"]);

/**
 * A client interceptor that retries unary calls a replica could not take:
 *
 * - UNAVAILABLE, with exponential backoff and jitter — for any method if
 *   the request provably never left (connection refused, or a stream the
 *   server refused with REFUSED_STREAM, whatever code the transport gave
 *   it), otherwise only
 *   for methods marked idempotent in the proto (`idempotency_level`),
 *   since the server may have acted on it;
 * - for idempotent methods, an answer cut off before its status (a replica
 *   killed mid-answer; connect-node calls it an INTERNAL protocol error);
 * - RESOURCE_EXHAUSTED, only for idempotent methods and only when the
 *   server sent a retry hint (`grpc-retry-pushback-ms`), after that pause.
 *
 * It never waits past the call's deadline, and on each retry sends the
 * time that is left, not the original timeout. Streaming calls are not
 * retried: their request messages cannot be replayed.
 */
export function createRetryInterceptor(options: RetryOptions = {}): Interceptor {
  const opts = { ...DEFAULTS, ...options };
  return (next) => async (req) => {
    if (req.stream) return next(req);
    const idempotent = req.method.idempotency !== MethodOptions_IdempotencyLevel.IDEMPOTENCY_UNKNOWN;
    const deadline = deadlineOf(req.header, Date.now());
    for (let attempt = 1; ; attempt++) {
      try {
        return await next(req);
      } catch (e) {
        const error = ConnectError.from(e);
        const pause = retryPause(error, attempt, idempotent, opts);
        const outOfTime = pause !== undefined && deadline !== undefined && Date.now() + pause >= deadline;
        if (pause === undefined || attempt >= opts.maxAttempts || outOfTime || req.signal.aborted) throw error;
        try {
          await sleep(pause, req.signal);
        } catch {
          throw error;
        }
        if (deadline !== undefined) setTimeoutHeader(req.header, deadline - Date.now());
      }
    }
  };
}

/** How long to wait before attempt `attempt + 1`, or `undefined` if the error is not worth a retry. */
function retryPause(
  error: ConnectError,
  attempt: number,
  idempotent: boolean,
  opts: Required<RetryOptions>,
): number | undefined {
  const transient =
    (error.code === Code.Unavailable && (idempotent || neverSent(error))) ||
    refusedStream(error) ||
    (idempotent && cutOff(error));
  if (transient) {
    const base = Math.min(opts.maxBackoffMs, opts.initialBackoffMs * opts.multiplier ** (attempt - 1));
    return Math.round(base * (1 + (Math.random() * 2 - 1) * opts.jitter));
  }
  if (error.code === Code.ResourceExhausted && idempotent) {
    const hint = Number(error.metadata.get(PUSHBACK_HEADER) ?? Number.NaN);
    return Number.isFinite(hint) && hint >= 0 ? hint : undefined;
  }
  return undefined;
}

function neverSent(error: ConnectError): boolean {
  const cause = error.cause as { code?: unknown } | undefined;
  return typeof cause?.code === "string" && NOT_SENT_CODES.has(cause.code);
}

/**
 * The server (or a balancer: HAProxy does it when a backend goes away)
 * reset the stream with REFUSED_STREAM, which HTTP/2 guarantees means "not
 * processed", so any method may be sent again. gRPC calls that UNAVAILABLE;
 * connect-node reports it as INTERNAL, so it is recognized by its cause.
 */
function refusedStream(error: ConnectError): boolean {
  const cause = error.cause instanceof Error ? error.cause.message : "";
  return /NGHTTP2_REFUSED_STREAM/.test(cause) || /NGHTTP2_REFUSED_STREAM/.test(error.rawMessage);
}

/**
 * The answer ended before it was whole: no status, no trailers, or half a
 * message. connect-node reports these as INTERNAL protocol errors; for the
 * caller they mean the connection broke, as UNAVAILABLE would.
 */
const CUT_OFF =
  /^protocol error: (missing status|missing trailer|missing output message|missing response message|incomplete envelope)/;
function cutOff(error: ConnectError): boolean {
  return error.code === Code.Internal && CUT_OFF.test(error.rawMessage);
}

const GRPC_UNITS: Record<string, number> = { H: 3_600_000, M: 60_000, S: 1_000, m: 1, u: 0.001, n: 0.000001 };

/** The call's deadline, from the timeout header the transport set (gRPC, gRPC-Web or Connect). */
function deadlineOf(header: Headers, now: number): number | undefined {
  const connect = header.get("connect-timeout-ms");
  if (connect !== null && /^\d+$/.test(connect)) return now + Number(connect);
  const grpc = /^(\d{1,8})([HMSmun])$/.exec(header.get("grpc-timeout") ?? "");
  if (grpc?.[1] && grpc[2]) return now + Number(grpc[1]) * (GRPC_UNITS[grpc[2]] ?? 1);
  return undefined;
}

function setTimeoutHeader(header: Headers, remainingMs: number): void {
  const ms = Math.max(1, Math.floor(remainingMs));
  if (header.has("connect-timeout-ms")) header.set("connect-timeout-ms", String(ms));
  // grpc-timeout takes at most 8 digits.
  if (header.has("grpc-timeout")) header.set("grpc-timeout", ms < 1e8 ? `${ms}m` : `${Math.ceil(ms / 1000)}S`);
}

/** Waits `ms`, or rejects as soon as `signal` aborts. Plain timers, so it runs in browsers too. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}
