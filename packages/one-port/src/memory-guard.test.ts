import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
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

  it("judges what was live at the last full collection, running one when over a threshold and none ran lately", async () => {
    let garbage = 90;
    let live = 5;
    let collections = 0;
    const guard = createMemoryGuard({
      limitBytes: 100 * MiB,
      collectEveryMs: 60_000,
      sample: () => reading(live + garbage),
      collect: () => {
        collections++;
        garbage = 0;
      },
    });
    try {
      // The reading at creation was over: collected, and what is live is little.
      assert.equal(guard.pressure, "normal");
      assert.equal(collections, 1);
      garbage = 90;
      assert.equal(guard.check(), "normal", "garbage since the collection sheds nothing");
      assert.equal(collections, 1, "one collection a period at most");
    } finally {
      guard.close();
    }
    const growing = createMemoryGuard({
      limitBytes: 100 * MiB,
      collectEveryMs: 1,
      sample: () => reading(live + garbage),
      collect: () => {
        garbage = 0;
      },
    });
    try {
      live = 95;
      garbage = 0;
      await sleep(5);
      assert.equal(growing.check(), "critical", "live memory that grew is seen at the next collection");
    } finally {
      growing.close();
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
