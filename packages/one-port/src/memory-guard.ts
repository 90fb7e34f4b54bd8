import { constants, PerformanceObserver } from "node:perf_hooks";
import { getHeapStatistics, setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

/**
 * How close the process is to running out of memory:
 * - `normal`: serve as usual;
 * - `shed`: refuse new calls, let calls in flight go on;
 * - `critical`: also close the connections that hold the most.
 */
export type MemoryPressure = "normal" | "shed" | "critical";

/** One reading of the process's memory. */
export interface MemorySample {
  /** Resident set size: V8's heap, Buffers and everything else (reported, not judged: see `limitBytes`). */
  rssBytes: number;
  /** Memory held outside V8's heap by objects on it: Buffers, above all. */
  externalBytes: number;
  /** Live and not yet collected objects on V8's heap. */
  heapUsedBytes: number;
  /** The heap size at which V8 gives up and the process dies (`--max-old-space-size`, or Node's default). */
  heapLimitBytes: number;
}

export interface MemoryGuardOptions {
  /**
   * The memory the process may hold, in bytes: V8's heap plus the Buffers
   * and other memory its objects hold outside it. Not RSS, which the
   * allocator rarely gives back: judged by RSS, a server that freed what an
   * attack made it hold would look full long after, and go on closing
   * connections. 0 = no such limit, V8's heap limit alone counts.
   * @default the container's memory limit (`process.constrainedMemory()`), or 0 outside one
   */
  limitBytes?: number;
  /**
   * From this fraction of `limitBytes` on, new calls are refused.
   * @default 0.8
   */
  shedAt?: number;
  /**
   * From this fraction of `limitBytes` on, the connections holding the
   * most (see `OnePortServer`) are also closed, one per reading, until it
   * falls.
   * @default 0.9
   */
  criticalAt?: number;
  /**
   * The same two thresholds for V8's heap, as fractions of its
   * `heap_size_limit`. Lower than the RSS ones because that limit includes
   * the young generation's reserve: with `--max-old-space-size=512` it is
   * 704 MB, and the process dies of "ineffective mark-compacts" at about
   * 470 MB used (measured on Node 24.21).
   * @default { shedAt: 0.5, criticalAt: 0.58 }
   */
  heap?: { shedAt?: number; criticalAt?: number };
  /**
   * How often memory is read, in milliseconds. Every call only reads the
   * last answer; a reading costs a few microseconds.
   * @default 100
   */
  intervalMs?: number;
  /**
   * Readings are judged by what was live at V8's last full collection (the
   * lower of that and the reading now), so that garbage never sheds a call.
   * Over a threshold with no full collection for this long (milliseconds;
   * 0 = never), the guard runs one itself: V8 collects as it allocates, and
   * a server that sheds calls allocates little, so after an attack the heap
   * it left behind would stay uncollected and every call refused.
   * @default 1_000
   */
  collectEveryMs?: number;
  /** Reads the memory; tests give their own. @default process.memoryUsage and v8.getHeapStatistics */
  sample?: () => MemorySample;
  /** Runs a full collection; tests give their own. @default V8's `gc`, exposed at run time */
  collect?: () => void;
}

/** Watches the process's memory in the background and says how close it is to its limits. */
export interface MemoryGuard {
  /** The pressure at the last reading. */
  readonly pressure: MemoryPressure;
  /** The last reading. */
  readonly last: MemorySample;
  /** Reads memory now, outside the timer, and returns the new pressure. */
  check(): MemoryPressure;
  /** Called after every reading while the pressure is `critical`. */
  onCritical(listener: () => void): void;
  /** Stops the timer. */
  close(): void;
}

/** The defaults of {@link MemoryGuardOptions}, in one place. */
export const memoryGuardDefaults = {
  collectEveryMs: 1_000,
  shedAt: 0.8,
  criticalAt: 0.9,
  heap: { shedAt: 0.5, criticalAt: 0.58 },
  intervalMs: 100,
} as const;

function readMemory(): MemorySample {
  const usage = process.memoryUsage();
  return {
    rssBytes: usage.rss,
    externalBytes: usage.external,
    heapUsedBytes: usage.heapUsed,
    heapLimitBytes: getHeapStatistics().heap_size_limit,
  };
}

/**
 * V8's full collection as a function: `global.gc` under `--expose-gc`, or
 * the same exposed now (V8 documents the flag; setting it after start-up
 * and fetching `gc` from a new context is the way Node's own tests do it).
 */
function fullCollection(): () => void {
  const exposed = (globalThis as { gc?: unknown }).gc;
  if (typeof exposed === "function") return exposed as () => void;
  setFlagsFromString("--expose-gc");
  const gc = runInNewContext("gc") as unknown;
  return typeof gc === "function" ? (gc as () => void) : () => {};
}

/**
 * The container's memory limit, or 0 outside one. Node reports "no limit"
 * as 0 or as a huge number (cgroup v1's page-rounded maximum), depending on
 * the version and the cgroup.
 */
export function containerMemoryLimit(): number {
  const limit = process.constrainedMemory?.() ?? 0;
  return limit > 0 && limit < 2 ** 50 ? limit : 0;
}

export function createMemoryGuard(options: MemoryGuardOptions = {}): MemoryGuard {
  const limit = options.limitBytes ?? containerMemoryLimit();
  const shedAt = options.shedAt ?? memoryGuardDefaults.shedAt;
  const criticalAt = options.criticalAt ?? memoryGuardDefaults.criticalAt;
  const heapShedAt = options.heap?.shedAt ?? memoryGuardDefaults.heap.shedAt;
  const heapCriticalAt = options.heap?.criticalAt ?? memoryGuardDefaults.heap.criticalAt;
  const sample = options.sample ?? readMemory;
  const collectEveryMs = options.collectEveryMs ?? memoryGuardDefaults.collectEveryMs;
  let collect = options.collect;
  const listeners: (() => void)[] = [];
  let last = sample();
  let pressure: MemoryPressure = "normal";
  // The reading right after V8's last full collection, and when: what is
  // live then. A reading between collections counts garbage too, and under
  // load the heap holds several times its live size in garbage, so what is
  // judged is the lower of the two: garbage never sheds a call.
  let live: MemorySample | undefined;
  let liveAt = 0;
  const gcWatch = new PerformanceObserver((entries) => {
    for (const entry of entries.getEntries()) {
      if ((entry as { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR) {
        live = sample();
        liveAt = Date.now();
      }
    }
  });
  gcWatch.observe({ entryTypes: ["gc"] });

  const pressureOf = (m: MemorySample): MemoryPressure => {
    const heap = m.heapLimitBytes > 0 ? m.heapUsedBytes / m.heapLimitBytes : 0;
    const held = limit > 0 ? (m.heapUsedBytes + m.externalBytes) / limit : 0;
    if (heap >= heapCriticalAt || held >= criticalAt) return "critical";
    if (heap >= heapShedAt || held >= shedAt) return "shed";
    return "normal";
  };
  const lower = (a: MemorySample, b: MemorySample): MemorySample =>
    a.heapUsedBytes + a.externalBytes <= b.heapUsedBytes + b.externalBytes ? a : b;
  const check = (): MemoryPressure => {
    last = sample();
    // Over a threshold with no full collection for a while: find out what
    // of it is live. V8 collects as it allocates, so this is for a server
    // that sheds calls and allocates little, or grows between collections.
    if (pressureOf(last) !== "normal" && collectEveryMs > 0 && Date.now() - liveAt >= collectEveryMs) {
      collect ??= fullCollection();
      collect();
      live = sample();
      liveAt = Date.now();
    }
    pressure = pressureOf(live ? lower(last, live) : last);
    if (pressure === "critical") for (const listener of listeners) listener();
    return pressure;
  };
  check();
  const timer = setInterval(check, options.intervalMs ?? memoryGuardDefaults.intervalMs);
  timer.unref();

  return {
    get pressure() {
      return pressure;
    },
    get last() {
      return last;
    },
    check,
    onCritical(listener) {
      listeners.push(listener);
    },
    close() {
      clearInterval(timer);
      gcWatch.disconnect();
    },
  };
}
