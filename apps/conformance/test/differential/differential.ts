import assert from "node:assert/strict";
import fc from "fast-check";
import {
  type ConformanceServer,
  type ConformanceServerOptions,
  startConformanceServer,
} from "../../src/conformance-server.js";
import { type Call, callArbitrary, toWire } from "./calls.js";
import { comparable } from "./comparable.js";
import { withoutKnownDifferences } from "./exceptions.js";
import { failingInterceptor } from "./failing-interceptor.js";
import { exchange } from "./raw-exchange.js";

/** The two servers compared: the same options, the fast path in front of one. */
export interface ServerPair {
  fast: ConformanceServer;
  slow: ConformanceServer;
  close(): Promise<void>;
}

/** Starts the pair on loopback, port 0 each, both with `routerOptions` if given. */
export async function startServerPair(routerOptions?: ConformanceServerOptions["routerOptions"]): Promise<ServerPair> {
  const options = { interceptors: [failingInterceptor], readMaxBytes: 1024 * 1024, routerOptions };
  const [fast, slow] = await Promise.all([
    startConformanceServer({ ...options, fastPath: true }),
    startConformanceServer({ ...options, fastPath: false }),
  ]);
  return { fast, slow, close: async () => void (await Promise.all([fast.close(), slow.close()])) };
}

/** Sends one call's bytes to both servers and fails, saying what differs, unless the answers agree. */
export async function compareOne(pair: ServerPair, call: Call): Promise<void> {
  const wire = toWire(call);
  const [fast, slow] = await Promise.all([exchange(pair.fast.port, wire), exchange(pair.slow.port, wire)]);
  const [a, b] = withoutKnownDifferences(call, wire, comparable(call, fast), comparable(call, slow));
  assert.deepEqual(a, b, `fast path (actual) against connect-node (expected) for ${JSON.stringify(wire)}`);
}

/** The property: every generated call answered alike by both servers. Seeded, so a failure reproduces. */
export async function assertSameAnswers(pair: ServerPair, runs: number, seed: number): Promise<void> {
  await fc.assert(
    fc.asyncProperty(callArbitrary, (call) => compareOne(pair, call)),
    { numRuns: runs, seed, endOnFailure: false },
  );
}
