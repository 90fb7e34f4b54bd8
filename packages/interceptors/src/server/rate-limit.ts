import { Code, ConnectError, type HandlerContext } from "@connectrpc/connect";
import { callInfoKey } from "./call-info.js";
import type { RequestGate } from "./request-gate.js";

export interface RateLimitOptions {
  /** Calls per second each client may make, on average. */
  perSecond: number;
  /** Calls a client may make at once after a quiet spell. @default 2 × perSecond */
  burst?: number;
  /** Who the client is. @default its IP address (from the server's CallInfo) */
  clientOf?: (context: HandlerContext) => string;
  /** Clients remembered at most; the longest-idle are forgotten first. @default 10_000 */
  maxClients?: number;
  /** Called for each call the limit refuses, to count them. @default none */
  onLimited?: () => void;
  /** For tests. @default Date.now */
  now?: () => number;
}

interface Bucket {
  tokens: number;
  updated: number;
}

/**
 * A token bucket per client, as the router's request gate (so that a
 * refused call's body is never read): each call takes a token, tokens come back at
 * `perSecond`, up to `burst`. A client out of tokens gets RESOURCE_EXHAUSTED
 * with the time until its next token, as `grpc-retry-pushback-ms` (gRPC's
 * retry hint, which the retry interceptor honours) and `retry-after`.
 * Other clients are not affected: each has its own bucket. The buckets
 * live in this process: servers that share a port (node:cluster) or a
 * balancer each keep their own, so a client whose connections reach N of
 * them gets up to N times `perSecond`.
 */
export function createRateLimitGate(options: RateLimitOptions): RequestGate {
  const rate = options.perSecond / 1000;
  const burst = options.burst ?? options.perSecond * 2;
  const maxClients = options.maxClients ?? 10_000;
  const now = options.now ?? Date.now;
  const clientOf = options.clientOf ?? ipOf;
  const buckets = new Map<string, Bucket>();

  return (context) => {
    const client = clientOf(context);
    const time = now();
    let bucket = buckets.get(client);
    if (bucket) {
      bucket.tokens = Math.min(burst, bucket.tokens + (time - bucket.updated) * rate);
      bucket.updated = time;
      // Re-insert, so the Map's order stays "least recently seen first".
      buckets.delete(client);
    } else {
      bucket = { tokens: burst, updated: time };
      if (buckets.size >= maxClients) buckets.delete(buckets.keys().next().value as string);
    }
    buckets.set(client, bucket);
    if (bucket.tokens < 1) {
      options.onLimited?.();
      const waitMs = Math.ceil((1 - bucket.tokens) / rate);
      throw new ConnectError(
        `rate limit: at most ${options.perSecond} call${options.perSecond === 1 ? "" : "s"} per second per client; retry in ${waitMs} ms`,
        Code.ResourceExhausted,
        { "grpc-retry-pushback-ms": String(waitMs), "retry-after": String(Math.ceil(waitMs / 1000)) },
      );
    }
    bucket.tokens -= 1;
  };
}

/** The IP address part of the CallInfo peer (`127.0.0.1:53110`, `[::1]:53110`, `::1:53110`). */
function ipOf(context: HandlerContext): string {
  const peer = context.values.get(callInfoKey)?.peer ?? "unknown";
  const colon = peer.lastIndexOf(":");
  return colon > 0 ? peer.slice(0, colon) : peer;
}
