// The package ships no types; this is the part of its API the server uses.
declare module "on-exit-leak-free" {
  /** Calls `fn` when the process exits, unless `obj` was garbage-collected first. */
  export function register<T extends object>(obj: T, fn: (obj: T, event: "exit" | "beforeExit") => void): void;
}
