import { after, before, describe, it } from "node:test";
import { assertSameAnswers, type ServerPair, startServerPair } from "./differential/differential.js";
import { differentialGate } from "./differential/gate.js";

// Requests generated in bulk (test/differential/calls.ts), the same bytes
// sent to the ConformanceService with the fast path in front and without
// it: every answer's status, meaningful headers and decoded body must agree,
// but for the documented differences (differential/exceptions.ts).
// `pnpm fuzz differential --runs N` runs the same with more calls.
const RUNS = 300;
const SEED = 20261205;

/**
 * The router options the fast path honours besides the defaults, each pair
 * of servers given the same: a request gate steered by the call
 * (differential/gate.ts), a ceiling on timeouts, the Connect version
 * header required, and protocols switched off.
 */
const OPTION_SETS = {
  "a request gate, maxTimeoutMs and requireConnectProtocolHeader": {
    requestGate: differentialGate,
    maxTimeoutMs: 60_000,
    requireConnectProtocolHeader: true,
  },
  "gRPC-Web switched off": { grpcWeb: false },
  "only gRPC-Web on": { grpc: false, connect: false },
};

describe("differential: the fast path against connect-node, generated calls", () => {
  let pair: ServerPair;
  before(async () => {
    pair = await startServerPair();
  });
  after(() => pair.close());

  it(`answers ${RUNS} generated calls alike (seed ${SEED})`, async () => {
    await assertSameAnswers(pair, RUNS, SEED);
  });
});

for (const [name, routerOptions] of Object.entries(OPTION_SETS)) {
  describe(`differential, with ${name}`, () => {
    let pair: ServerPair;
    before(async () => {
      pair = await startServerPair(routerOptions);
    });
    after(() => pair.close());

    it(`answers ${RUNS / 2} generated calls alike (seed ${SEED})`, async () => {
      await assertSameAnswers(pair, RUNS / 2, SEED);
    });
  });
}
