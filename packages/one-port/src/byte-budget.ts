/**
 * Bytes of request messages the server holds before they are whole: a
 * unary body being read, the part of a stream's next message that has
 * arrived. A client that sends most of many large messages and holds back
 * their last bytes makes the server keep all of them; these budgets bound
 * that, per connection (as Envoy's `per_connection_buffer_limit_bytes`) and
 * for the process.
 */
export interface ByteBudgetOptions {
  /**
   * Bytes one connection's unfinished messages may hold at once; 0 = no cap.
   * @default 16 MiB (four messages of the default 4 MiB limit)
   */
  perConnectionBytes?: number;
  /**
   * Bytes every connection's unfinished messages may hold at once; 0 = no cap.
   * @default 64 MiB
   */
  totalBytes?: number;
}

/** The defaults of {@link ByteBudgetOptions}, in one place. */
export const byteBudgetDefaults = {
  perConnectionBytes: 16 * 1024 * 1024,
  totalBytes: 64 * 1024 * 1024,
} as const;

/** Which budget a refused `hold` ran into. */
export type BudgetSpent = "connection" | "total";

/** Counts the bytes held for unfinished messages, by connection. */
export interface ByteBudget {
  /**
   * Counts `bytes` more held for `connection` (an HTTP/1.1 socket or an
   * HTTP/2 session). Returns undefined if they fit, or which budget they do
   * not fit in; nothing is counted then.
   */
  hold(connection: object, bytes: number): BudgetSpent | undefined;
  /** Gives back bytes `hold` counted, once their message is whole or gone. */
  release(connection: object, bytes: number): void;
  /** Bytes `connection` holds now. */
  heldBy(connection: object): number;
  /** Bytes held now, in all. */
  readonly total: number;
  readonly perConnectionBytes: number;
  readonly totalBytes: number;
}

export function createByteBudget(options: ByteBudgetOptions = {}): ByteBudget {
  const perConnectionBytes = options.perConnectionBytes ?? byteBudgetDefaults.perConnectionBytes;
  const totalBytes = options.totalBytes ?? byteBudgetDefaults.totalBytes;
  // Weak: a connection that closes without every release (a destroyed
  // socket mid-message) takes its count with it; `total` is corrected by
  // the holder's own release, which always runs (see the request meters).
  const held = new WeakMap<object, number>();
  let total = 0;
  return {
    hold(connection, bytes) {
      const mine = held.get(connection) ?? 0;
      if (perConnectionBytes > 0 && mine + bytes > perConnectionBytes) return "connection";
      if (totalBytes > 0 && total + bytes > totalBytes) return "total";
      held.set(connection, mine + bytes);
      total += bytes;
      return undefined;
    },
    release(connection, bytes) {
      const mine = held.get(connection) ?? 0;
      const given = Math.min(mine, bytes);
      if (mine - given === 0) held.delete(connection);
      else held.set(connection, mine - given);
      total -= given;
    },
    heldBy(connection) {
      return held.get(connection) ?? 0;
    },
    get total() {
      return total;
    },
    perConnectionBytes,
    totalBytes,
  };
}
