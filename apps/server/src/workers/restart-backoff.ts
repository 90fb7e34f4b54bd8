/** Options of {@link createRestartBackoff}. */
export interface RestartBackoffOptions {
  /**
   * Delay before replacing the first worker that dies. Long enough that a
   * worker crashing on every call does not burn a core restarting, short
   * enough that one crash costs the port little capacity.
   * @default 500
   */
  initialMs?: number;
  /**
   * The longest delay: the delay doubles with each death until it reaches this.
   * @default 30000
   */
  maxMs?: number;
  /**
   * A worker that lived this long before it died was not part of a crash
   * loop: its replacement waits only `initialMs` again.
   * @default 60000
   */
  resetAfterMs?: number;
}

/** How long the primary waits before replacing a worker that died. */
export interface RestartBackoff {
  /** The delay before replacing a worker that died after living `livedMs`; each call counts one death. */
  next(livedMs: number): number;
}

/**
 * Exponential backoff for replacing dead workers: `initialMs`, twice that,
 * four times… up to `maxMs`, and back to `initialMs` once a worker has lived
 * `resetAfterMs`. One state for the whole cluster, not one per worker: a
 * crash loop is usually one bad input or one bad dependency hitting every
 * worker in turn, and the delays must grow whichever worker it hits.
 */
export function createRestartBackoff(options: RestartBackoffOptions = {}): RestartBackoff {
  const initialMs = options.initialMs ?? 500;
  const maxMs = options.maxMs ?? 30_000;
  const resetAfterMs = options.resetAfterMs ?? 60_000;
  let deaths = 0;
  return {
    next(livedMs) {
      if (livedMs >= resetAfterMs) deaths = 0;
      // 2 ** 30 is far past any cap; stop doubling there rather than overflow to Infinity.
      const delay = Math.min(maxMs, initialMs * 2 ** Math.min(deaths, 30));
      deaths++;
      return delay;
    },
  };
}
