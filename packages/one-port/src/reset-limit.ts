import http2, { type Http2Session, type ServerHttp2Stream } from "node:http2";

/** How many streams a client may reset before the server answered them, per HTTP/2 connection. */
export interface ResetLimitOptions {
  /**
   * Streams one connection may have reset before the server answered them,
   * all at once: four times the default MAX_CONCURRENT_STREAMS, so a client
   * may cancel every call it has in flight, several times over. Measured
   * on loopback: 10,000 grpc-js calls with a 1 ms deadline over two
   * connections reset fewer than 20 streams per connection that the server
   * had not answered yet (most resets come after the answer, and cost
   * nothing); a rapid-reset flood (CVE-2023-44487) resets about 27,000 a
   * second. Node's own limit (nghttp2's burst of 1,000, then 33 a second)
   * counts every RST_STREAM, and cut the storm's connections with
   * INTERNAL_ERROR, losing the calls still on them.
   * @default 4_000
   */
  resetBurst?: number;
  /**
   * Resets per second a connection earns back, up to `resetBurst`: the rate
   * at which a client may go on cancelling unanswered calls for ever.
   * @default 1_000
   */
  resetRatePerSecond?: number;
  /**
   * Told of a connection cut for resetting too many streams (the server logs
   * it), with the client's address.
   */
  onResetFlood?: (peer: string) => void;
}

export const RESET_LIMIT_DEFAULTS = { resetBurst: 4_000, resetRatePerSecond: 1_000 } as const;

/** A connection's reset budget: a token bucket. */
interface ResetBudget {
  tokens: number;
  /** When `tokens` was last topped up, in ms (performance.now()). */
  at: number;
}

const { NGHTTP2_ENHANCE_YOUR_CALM } = http2.constants;

/** How far above ours Node's own limit is set. */
const NODE_LIMIT_FACTOR = 10;
/**
 * And at least this much: nghttp2 counts the resets of a whole socket read
 * (64 KiB: about 1,800 HEADERS and RST_STREAM pairs) before Node hands the
 * first of their streams to JavaScript, where ours counts.
 */
const NODE_LIMIT_FLOOR = 10_000;

/**
 * Node's own reset limit, set far above ours so that ours decides: Node's
 * counts every RST_STREAM, those of streams already answered too (cheap:
 * nghttp2 drops them), and ends the connection with INTERNAL_ERROR. It
 * stays as a backstop against a flood of resets alone.
 */
export function nodeResetOptions(opts: ResetLimitOptions): { streamResetBurst: number; streamResetRate: number } {
  const burst = opts.resetBurst ?? RESET_LIMIT_DEFAULTS.resetBurst;
  const rate = opts.resetRatePerSecond ?? RESET_LIMIT_DEFAULTS.resetRatePerSecond;
  return {
    streamResetBurst: Math.max(burst * NODE_LIMIT_FACTOR, NODE_LIMIT_FLOOR),
    streamResetRate: Math.max(rate * NODE_LIMIT_FACTOR, NODE_LIMIT_FLOOR),
  };
}

/**
 * Counts, per HTTP/2 connection, the streams that ended before the server
 * answered them ('aborted': the client's RST_STREAM, or the server's own
 * reset of a stream it was still writing), and cuts a connection past its
 * budget: GOAWAY ENHANCE_YOUR_CALM, then the socket is closed. Streams the
 * server answered cost nothing, so honest clients, whose cancels follow
 * their calls, stay far below it; a flood of HEADERS and RST_STREAM pairs,
 * which costs the server a call each without MAX_CONCURRENT_STREAMS ever
 * holding it back, does not.
 *
 * Returns what to call on each new session. Per stream it reads one flag
 * and adds one shared listener; budgets exist only for connections that
 * reset.
 */
export function createResetLimit(opts: ResetLimitOptions): (session: Http2Session) => void {
  const burst = opts.resetBurst ?? RESET_LIMIT_DEFAULTS.resetBurst;
  const perMs = (opts.resetRatePerSecond ?? RESET_LIMIT_DEFAULTS.resetRatePerSecond) / 1000;
  const budgets = new WeakMap<Http2Session, ResetBudget>();

  const spend = (session: Http2Session | undefined): void => {
    if (!session || session.destroyed) return;
    const now = performance.now();
    let budget = budgets.get(session);
    if (!budget) {
      budget = { tokens: burst, at: now };
      budgets.set(session, budget);
    } else {
      budget.tokens = Math.min(burst, budget.tokens + (now - budget.at) * perMs);
      budget.at = now;
    }
    budget.tokens--;
    if (budget.tokens >= 0) return;
    const socket = session.socket;
    opts.onResetFlood?.(`${socket?.remoteAddress}:${socket?.remotePort}`);
    // Closed at once, with a GOAWAY that says why: a graceful close would go
    // on reading the flood. The error goes to the server's 'sessionError'.
    session.destroy(new Error("HTTP/2 reset flood"), NGHTTP2_ENHANCE_YOUR_CALM);
  };
  // Shared, not a closure per stream: `this` is the stream.
  function onAborted(this: ServerHttp2Stream): void {
    spend(this.session);
  }
  function onStream(this: Http2Session, stream: ServerHttp2Stream): void {
    // A HEADERS and its RST_STREAM read together: Node closes the stream
    // (and lets go of its session) before it emits it.
    if (stream.aborted) spend(this);
    else stream.on("aborted", onAborted);
  }
  return (session) => {
    session.on("stream", onStream);
  };
}
