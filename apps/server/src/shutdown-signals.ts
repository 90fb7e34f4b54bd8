/**
 * Copies of one signal arrive within this long. A signal sent to a process
 * group (systemd's `KillMode=control-group`, `kill -- -PGID`, a terminal's
 * Ctrl-C) reaches every process in it from the kernel, and then again from
 * each parent that passes signals on to its child (the cluster primary,
 * npm, pnpm): one person's "stop" arrives two or three times, milliseconds
 * apart. Only a signal after this window is a person asking again.
 */
export const SIGNAL_COPY_WINDOW_MS = 1_000;

export interface ShutdownHandlers {
  /** The first signal: drain. */
  drain(signal: NodeJS.Signals): void;
  /** A signal after the copy window: stop now. */
  now(signal: NodeJS.Signals): void;
}

/** Calls `drain` on the first SIGTERM or SIGINT, ignores its copies, and calls `now` on a later one. */
export function onShutdownSignals(handlers: ShutdownHandlers, windowMs = SIGNAL_COPY_WINDOW_MS): void {
  let first: number | undefined;
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    process.on(signal, () => {
      if (first === undefined) {
        first = Date.now();
        handlers.drain(signal);
      } else if (Date.now() - first >= windowMs) {
        handlers.now(signal);
      }
    });
  }
}
