import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseH2load } from "./h2load.js";

/** h2load's summary as it prints it, with the run's duration in the unit it chose. */
const summary = (duration: string, reqPerSec: string) => `starting benchmark...
finished in ${duration}, ${reqPerSec} req/s, 236.40KB/s
requests: 3 total, 3 started, 3 done, 2 succeeded, 1 failed, 0 errored, 0 timeout
status codes: 2 2xx, 0 3xx, 0 4xx, 1 5xx
traffic: 687B (687) total, 234B (234) headers (space savings 3.70%), 72B (72) data
`;

describe("parseH2load", () => {
  for (const [duration, reqPerSec] of [
    ["946us", "1057.08"],
    ["12.50ms", "240.00"],
    ["10.00s", "27415.30"],
  ] as const) {
    it(`reads a run that finished in ${duration}`, () => {
      const result = parseH2load(summary(duration, reqPerSec));
      assert.equal(result.reqPerSec, Number(reqPerSec));
      assert.equal(result.succeeded, 2);
      assert.equal(result.ok2xx, 2);
      assert.equal(result.failed, 1);
      assert.equal(result.bytesPerCall, 687 / 2);
      assert.equal(result.dataBytesPerCall, 72 / 2);
    });
  }

  it("refuses output without a summary, naming what it lacks", () => {
    assert.throws(() => parseH2load("starting benchmark...\n"), /h2load output lacks/);
  });
});
