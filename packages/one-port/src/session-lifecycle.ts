import type { Http2Session } from "node:http2";

/** How long HTTP/2 connections live, and how dead peers are found. Every field is off when 0 or absent. */
export interface SessionLifecycleOptions {
  /**
   * A connection older than this gets a GOAWAY, so the client reconnects
   * and a load balancer can spread it again (grpc-go's MaxConnectionAge).
   * Each connection's age is jittered by ±10% so a fleet of clients does not
   * reconnect at once.
   */
  maxConnectionAgeMs?: number;
  /** After the age GOAWAY, how long calls in flight may take before the connection is cut. */
  maxConnectionAgeGraceMs?: number;
  /** Send a PING after this long without one, to find peers that are gone. */
  keepaliveTimeMs?: number;
  /** Drop the connection if a PING is not answered within this long. */
  keepaliveTimeoutMs?: number;
  /** Close (GOAWAY) a connection that has had no call in flight for this long. */
  idleTimeoutMs?: number;
}

/** The jitter applied to each connection's maximum age: ±10%. */
const AGE_JITTER = 0.1;

/**
 * Applies the lifecycle rules to one HTTP/2 session. All its timers are
 * unref'd and cleared when the session closes.
 */
export function manageSession(session: Http2Session, opts: SessionLifecycleOptions): void {
  const timers = new Set<NodeJS.Timeout>();
  const later = (ms: number, fn: () => void): NodeJS.Timeout => {
    const timer = setTimeout(() => {
      timers.delete(timer);
      fn();
    }, ms);
    timer.unref();
    timers.add(timer);
    return timer;
  };
  const cancel = (timer: NodeJS.Timeout | undefined): void => {
    if (!timer) return;
    clearTimeout(timer);
    timers.delete(timer);
  };
  session.once("close", () => {
    for (const timer of timers) clearTimeout(timer);
    timers.clear();
  });

  /** GOAWAY now; in-flight streams may finish within `graceMs`, then the connection is cut. */
  const retire = (graceMs: number | undefined): void => {
    if (session.closed || session.destroyed) return;
    session.close();
    if (graceMs) later(graceMs, () => session.destroy());
  };

  if (opts.maxConnectionAgeMs) {
    const jitter = 1 + (Math.random() * 2 - 1) * AGE_JITTER;
    later(Math.round(opts.maxConnectionAgeMs * jitter), () => retire(opts.maxConnectionAgeGraceMs));
  }

  if (opts.keepaliveTimeMs) {
    const timeoutMs = opts.keepaliveTimeoutMs || 20_000;
    const ping = (): void => {
      if (session.closed || session.destroyed) return;
      const deadline = later(timeoutMs, () => session.destroy());
      const sent = session.ping((err) => {
        cancel(deadline);
        if (err) session.destroy();
        else later(opts.keepaliveTimeMs ?? 0, ping);
      });
      // Too many unanswered pings already: treat the peer as gone.
      if (!sent) session.destroy();
    };
    later(opts.keepaliveTimeMs, ping);
  }

  if (opts.idleTimeoutMs) {
    const idleMs = opts.idleTimeoutMs;
    let active = 0;
    let idle: NodeJS.Timeout | undefined = later(idleMs, () => retire(undefined));
    session.on("stream", (stream) => {
      active++;
      cancel(idle);
      idle = undefined;
      stream.once("close", () => {
        active--;
        if (active === 0) idle = later(idleMs, () => retire(undefined));
      });
    });
  }
}
