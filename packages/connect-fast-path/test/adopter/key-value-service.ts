import { Code, ConnectError, type ConnectRouter, type HandlerContext } from "@connectrpc/connect";
import { KeyValueService, type WatchRequest, type WatchResponse } from "./gen/kv/v1/kv_pb.js";

/** A value and how many times its key has been put. */
interface Entry {
  value: string;
  version: number;
}

/**
 * The store behind one service. It lives outside the routes function on
 * purpose: the fast path and connect-node's adapter each call `routes`
 * once, and both must serve the same data.
 */
class KeyValueStore {
  readonly #entries = new Map<string, Entry>();
  readonly #waiters = new Map<string, Set<() => void>>();

  get(key: string): Entry | undefined {
    return this.#entries.get(key);
  }

  put(key: string, value: string): number {
    const version = (this.#entries.get(key)?.version ?? 0) + 1;
    this.#entries.set(key, { value, version });
    const waiters = this.#waiters.get(key);
    this.#waiters.delete(key);
    for (const wake of waiters ?? []) wake();
    return version;
  }

  /** Resolves at the key's next put; rejects with the signal's reason when it aborts first. */
  nextPut(key: string, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    return new Promise((resolve, reject) => {
      const waiters = this.#waiters.get(key) ?? new Set();
      this.#waiters.set(key, waiters);
      const onAbort = (): void => {
        waiters.delete(wake);
        reject(signal.reason);
      };
      const wake = (): void => {
        signal.removeEventListener("abort", onAbort);
        resolve();
      };
      waiters.add(wake);
      signal.addEventListener("abort", onAbort, { once: true });
    });
  }
}

/**
 * The routes of a fresh key-value service (kv.v1.KeyValueService): the
 * `(router) => void` function an adopter gives to both the fast path and
 * connect-node. Each call makes a new, empty store.
 */
export function createKeyValueRoutes(): (router: ConnectRouter) => void {
  const store = new KeyValueStore();
  return (router) => {
    router.service(KeyValueService, {
      put: (req) => ({ version: store.put(req.key, req.value) }),
      get(req) {
        const entry = store.get(req.key);
        if (!entry) {
          throw new ConnectError(`no value is stored under "${req.key}"`, Code.NotFound, { "kv-missing-key": req.key });
        }
        return entry;
      },
      watch: (req, ctx) => watch(store, req, ctx),
      async putMany(requests) {
        let count = 0;
        for await (const req of requests) {
          store.put(req.key, req.value);
          count++;
        }
        return { count };
      },
    });
  };
}

/** Every version of the key from now on; it ends only when the call does (a cancel or the deadline). */
async function* watch(
  store: KeyValueStore,
  req: WatchRequest,
  ctx: HandlerContext,
): AsyncGenerator<Pick<WatchResponse, "value" | "version">> {
  let sent = 0;
  for (;;) {
    const entry = store.get(req.key);
    if (entry && entry.version !== sent) {
      sent = entry.version;
      yield entry;
    }
    await store.nextPut(req.key, ctx.signal);
  }
}
