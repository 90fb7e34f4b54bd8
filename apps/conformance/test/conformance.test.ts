import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { runConformance } from "../src/runner.js";

// The whole suite, as `pnpm conformance` runs it: every case the config
// declares, none skipped, both ways the server can answer.
describe("the official Connect conformance suite (connectconformance, server mode)", () => {
  for (const fastPath of [true, false]) {
    it(`passes every case with FAST_PATH=${fastPath}`, { timeout: 600_000 }, async () => {
      const result = await runConformance(fastPath);
      assert.equal(result.failed, 0, result.output);
      assert.ok(result.total > 5000, `only ${result.total} cases ran`);
      assert.equal(result.passed, result.total);
    });
  }
});
