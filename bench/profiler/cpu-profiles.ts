/** Where a profile node's code is: scriptId "0" for V8's and Node's native code. */
export interface CallFrame {
  functionName: string;
  url: string;
  scriptId: string;
}

/** The parts of a V8 CPU profile (`.cpuprofile`) read here. */
export interface CpuProfile {
  nodes: { id: number; callFrame: CallFrame }[];
  samples: number[];
  /** Microseconds since the previous sample, one per sample. */
  timeDeltas: number[];
}

/**
 * The part of the stack a sample's own time is charged to, named as a
 * reader of the report knows it; undefined for idle time.
 */
export function categoryOf({ functionName, url, scriptId }: CallFrame): string | undefined {
  if (functionName === "(idle)") return undefined;
  if (functionName === "(garbage collector)") return "garbage collection";
  if (functionName === "(program)") return "V8 and native code outside any function (nghttp2, libuv, the kernel)";
  if (functionName.startsWith("RegExp: ")) return "regular expressions";
  if (url === "") {
    // No file: Node's native functions, or code made with `new Function`.
    return scriptId === "0" ? `native: ${functionName}` : "JavaScript compiled at run time (fast-json-stringify)";
  }
  const pkg = /node_modules\/(?:\.pnpm\/[^/]+\/node_modules\/)?((?:@[^/]+\/)?[^/]+)\//.exec(url);
  if (pkg) return pkg[1];
  if (url.startsWith("node:")) return nodeCategory(url.slice("node:".length));
  const ours = /\/(apps|packages)\/([^/]+)\/(?:dist|src)\/(.+?)\.[jt]s$/.exec(url);
  if (ours) {
    const [, kind, name, file] = ours;
    if (kind === "packages") return `@greeter/${name}: ${file}`;
    return `${name === "server" ? "our server" : name}: ${file}`;
  }
  if (url.includes("/bench/servers/")) return "the baseline's own code";
  return "other JavaScript";
}

function nodeCategory(module: string): string {
  if (/^(internal\/)?http2/.test(module)) return "Node: HTTP/2 (JavaScript side)";
  if (/^(_http|internal\/http|http$)/.test(module)) return "Node: HTTP/1.1";
  if (/^(internal\/streams|stream|events|internal\/stream_base)/.test(module)) return "Node: streams and events";
  if (/^(buffer|internal\/buffer|internal\/encoding|string_decoder)/.test(module)) return "Node: buffers and text";
  if (/^(internal\/process\/task_queues|internal\/timers|timers|internal\/process\/promises)/.test(module)) {
    return "Node: ticks, timers, promise hooks";
  }
  return "Node: other";
}

/** Self time per category across profiles, in microseconds; idle time left out. */
export function timeByCategory(profiles: readonly CpuProfile[]): Map<string, number> {
  const totals = new Map<string, number>();
  for (const profile of profiles) {
    const categories = new Map<number, string | undefined>();
    for (const node of profile.nodes) {
      categories.set(node.id, categoryOf(node.callFrame));
    }
    profile.samples.forEach((id, i) => {
      const category = categories.get(id);
      if (category === undefined) return;
      totals.set(category, (totals.get(category) ?? 0) + (profile.timeDeltas[i] ?? 0));
    });
  }
  return totals;
}

/** One line of a comparison: a category's time per call on each side. */
export interface CostLine {
  category: string;
  subjectMicros: number;
  referenceMicros: number;
}

/** What two servers' profiles under the same load say, per call. */
export interface ProfileComparison {
  /** The lines that differ most, largest difference first, then one line for everything else. */
  lines: CostLine[];
  /** Code only one side ran (the other spent nothing there), and code both ran. */
  onlyOneSide: CostLine;
  both: CostLine;
  total: CostLine;
}

/**
 * Compares the profiles of a server (the subject) with those of a
 * reference under the same load, per call: the `top` categories whose
 * time differs most, then the rest together.
 */
export function compareProfiles(
  subject: { profiles: readonly CpuProfile[]; calls: number },
  reference: { profiles: readonly CpuProfile[]; calls: number },
  top = 10,
): ProfileComparison {
  const a = timeByCategory(subject.profiles);
  const b = timeByCategory(reference.profiles);
  const all = [...new Set([...a.keys(), ...b.keys()])].map(
    (category): CostLine => ({
      category,
      subjectMicros: (a.get(category) ?? 0) / subject.calls,
      referenceMicros: (b.get(category) ?? 0) / reference.calls,
    }),
  );
  const gap = (l: CostLine): number => l.subjectMicros - l.referenceMicros;
  all.sort((x, y) => Math.abs(gap(y)) - Math.abs(gap(x)));
  const sum = (lines: CostLine[], category: string): CostLine => ({
    category,
    subjectMicros: lines.reduce((s, l) => s + l.subjectMicros, 0),
    referenceMicros: lines.reduce((s, l) => s + l.referenceMicros, 0),
  });
  const rest = all.slice(top);
  const lines = all.slice(0, top);
  if (rest.length > 0) lines.push(sum(rest, `everything else (${rest.length} more)`));
  const ranOnBoth = (l: CostLine): boolean => l.subjectMicros > 0 && l.referenceMicros > 0;
  return {
    lines,
    onlyOneSide: sum(
      all.filter((l) => !ranOnBoth(l)),
      "code only one side ran",
    ),
    both: sum(all.filter(ranOnBoth), "code both ran"),
    total: sum(all, "total busy time"),
  };
}
