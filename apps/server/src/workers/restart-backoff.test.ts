import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createRestartBackoff } from "./restart-backoff.js";

describe("createRestartBackoff", () => {
  it("doubles the delay with each death up to the cap", () => {
    const backoff = createRestartBackoff({ initialMs: 100, maxMs: 1_000, resetAfterMs: 60_000 });
    const delays = Array.from({ length: 7 }, () => backoff.next(10));
    assert.deepEqual(delays, [100, 200, 400, 800, 1_000, 1_000, 1_000]);
  });

  it("starts over once a worker has lived long enough, and only then", () => {
    const backoff = createRestartBackoff({ initialMs: 100, maxMs: 1_000, resetAfterMs: 5_000 });
    assert.deepEqual([backoff.next(10), backoff.next(4_999), backoff.next(10)], [100, 200, 400]);
    assert.deepEqual([backoff.next(5_000), backoff.next(10)], [100, 200]);
  });

  it("stays at the cap however long the loop goes on", () => {
    const backoff = createRestartBackoff({ initialMs: 500, maxMs: 30_000 });
    let last = 0;
    for (let i = 0; i < 2_000; i++) last = backoff.next(0);
    assert.equal(last, 30_000);
  });
});
