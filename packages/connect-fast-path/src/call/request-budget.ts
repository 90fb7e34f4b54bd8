import { Code, ConnectError } from "@connectrpc/connect";
import type { FastRequest } from "../wire/exchange.js";

/**
 * Bytes of request messages held before they are whole, counted by
 * connection (an HTTP/1.1 socket or an HTTP/2 session); `@greeter/one-port`'s
 * `createByteBudget` makes one. `hold` returns which budget is spent, or
 * undefined when the bytes fit.
 */
export interface RequestBudget {
  hold(connection: object, bytes: number): "connection" | "total" | undefined;
  release(connection: object, bytes: number): void;
}

/** The connection a request came on: its HTTP/2 session, or its HTTP/1.1 socket. */
export function connectionOf(req: FastRequest): object {
  return "stream" in req ? (req.stream.session ?? req.stream) : req.socket;
}

/** RESOURCE_EXHAUSTED for a request whose bytes do not fit in a budget. */
export function budgetSpent(which: "connection" | "total"): ConnectError {
  return which === "connection"
    ? new ConnectError(
        "this connection has too many unfinished request messages in flight; send fewer large messages at once",
        Code.ResourceExhausted,
      )
    : new ConnectError("the server holds too many unfinished request messages; retry later", Code.ResourceExhausted);
}

/**
 * Bytes a request body may hold before it counts against the request
 * budget. Most calls stay under it (a Greet is a dozen bytes) and never
 * touch the budget; a connection's streams can hold at most this much each
 * uncounted, 16 MiB for 1,000 streams.
 */
export const UNCOUNTED_BYTES = 16 * 1024;

/** One request body's share of the request budget, given back once (at its end, or the request's close). */
export class BodyHold {
  private held = 0;
  private readonly connection: object;

  constructor(
    req: FastRequest,
    private readonly budget: RequestBudget,
  ) {
    this.connection = connectionOf(req);
    // A client that resets the call mid-message never sends its end.
    req.once("close", () => this.release());
  }

  /** Counts the body at `size` bytes; says which budget is spent if they do not fit (nothing more is counted then). */
  grow(size: number): "connection" | "total" | undefined {
    const spent = this.budget.hold(this.connection, size - this.held);
    if (!spent) this.held = size;
    return spent;
  }

  release(): void {
    if (this.held === 0) return;
    this.budget.release(this.connection, this.held);
    this.held = 0;
  }
}
