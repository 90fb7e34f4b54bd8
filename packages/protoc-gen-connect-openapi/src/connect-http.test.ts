import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseTimeout } from "@connectrpc/connect/protocol-connect";
import fc from "fast-check";
import { connectHeaderParameters } from "./connect-http.js";

// connect-node's default maxTimeoutMs, which the server keeps: a longer
// deadline is clamped to setTimeout's longest, never refused.
const MAX_TIMEOUT_MS = Number.MAX_SAFE_INTEGER;

describe("the Connect-Timeout-Ms parameter's pattern", () => {
  const pattern = new RegExp(String(connectHeaderParameters["connect-timeout-ms"].schema.pattern));

  it("takes exactly what the server's parser takes (fast-check, 2000 runs, fixed seed)", () => {
    const values = fc.oneof(
      fc.integer({ min: 0, max: 2 ** 34 }).map(String),
      fc.constantFrom("0", "2147483647", "2147483648", "0000000001", "00000000001", "9999999999", "-1", "1e3", ""),
      fc.stringMatching(/^[0-9]{1,12}$/),
    );
    fc.assert(
      fc.property(values, (value) => {
        const accepted = parseTimeout(value, MAX_TIMEOUT_MS).error === undefined;
        assert.equal(pattern.test(value), accepted, value);
      }),
      { numRuns: 2000, seed: 20261203 },
    );
  });
});
