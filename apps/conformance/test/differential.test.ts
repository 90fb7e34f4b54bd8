import { after, before, describe, it } from "node:test";
import { assertSameAnswers, type ServerPair, startServerPair } from "./differential/differential.js";

// Requests generated in bulk (test/differential/calls.ts), the same bytes
// sent to the ConformanceService with the fast path in front and without
// it: every answer's status, meaningful headers and decoded body must agree,
// but for the documented differences (differential/exceptions.ts).
// `pnpm fuzz differential --runs N` runs the same with more calls.
const RUNS = 300;
const SEED = 20261205;

let pair: ServerPair;
before(async () => {
  pair = await startServerPair();
});
after(() => pair.close());

describe("differential: the fast path against connect-node, generated calls", () => {
  it(`answers ${RUNS} generated calls alike (seed ${SEED})`, async () => {
    await assertSameAnswers(pair, RUNS, SEED);
  });
});
