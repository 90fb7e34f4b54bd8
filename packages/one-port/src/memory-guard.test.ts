import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createMemoryGuard, type MemorySample } from "./memory-guard.js";

const MiB = 1024 * 1024;
/** A process whose heap limit is 1 GiB, holding `heap` MiB on the heap and `external` MiB outside it. */
const reading = (heap: number, external = 0): MemorySample => ({
  rssBytes: (heap + external + 50) * MiB,
  heapUsedBytes: heap * MiB,
  externalBytes: external * MiB,
  heapLimitBytes: 1024 * MiB,
});

describe("createMemoryGuard", () => {
  it("judges heap plus Buffers against the limit, and the heap against V8's limit", () => {
    let now = reading(10);
    const guard = createMemoryGuard({ limitBytes: 100 * MiB, collectEveryMs: 0, sample: () => now });
    try {
      assert.equal(guard.check(), "normal");
      now = reading(40, 45); // 85 of 100
      assert.equal(guard.check(), "shed");
      now = reading(40, 55); // 95 of 100
      assert.equal(guard.check(), "critical");
      const unlimited = createMemoryGuard({ limitBytes: 0, collectEveryMs: 0, sample: () => now });
      assert.equal(unlimited.check(), "normal", "no limit: the heap alone, far from V8's");
      now = reading(600); // 59% of V8's limit
      assert.equal(unlimited.check(), "critical");
      unlimited.close();
    } finally {
      guard.close();
    }
  });

  it("under pressure, believes a reading only after a full collection, at most once per period", () => {
    let garbage = 90;
    let collections = 0;
    const guard = createMemoryGuard({
      limitBytes: 100 * MiB,
      collectEveryMs: 60_000,
      sample: () => reading(5 + garbage),
      collect: () => {
        collections++;
        garbage = 0;
      },
    });
    try {
      // The reading at creation was under pressure: collected, then normal.
      assert.equal(guard.pressure, "normal");
      assert.equal(collections, 1);
      garbage = 90;
      assert.equal(guard.check(), "critical", "within the period, the reading stands");
      assert.equal(collections, 1);
    } finally {
      guard.close();
    }
  });

  it("tells its critical listeners at every critical reading", () => {
    let calls = 0;
    const guard = createMemoryGuard({ limitBytes: 100 * MiB, collectEveryMs: 0, sample: () => reading(99) });
    try {
      guard.onCritical(() => calls++);
      guard.check();
      guard.check();
      assert.equal(calls, 2);
    } finally {
      guard.close();
    }
  });
});
