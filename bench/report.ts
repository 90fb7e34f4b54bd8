import type { BenchCase } from "./cases.js";
import type { LogsUnderLoad } from "./logs-under-load.js";
import type { PageWeight } from "./page-weight.js";
import type { ProfileAnswer } from "./profiler/profile-runs.js";

export interface Row {
  c: BenchCase;
  reqPerSec: number[];
  cpuMicrosPerCall: number;
  p50Ms: number;
  p99Ms: number;
  peakRssMb: number;
  bytesPerCall: number;
}

/** One interceptor of the shipped chain, run alone side by side with no interceptors. */
export interface InterceptorAlone {
  name: string;
  /** Its cost in each side-by-side run. */
  costs: number[];
}

/** A Greeter server and one peer at once on the one core: its calls/s over the peer's, each run. */
export interface PeerSideBySide {
  /** The Greeter row's label. */
  subject: string;
  /** The peer row's label. */
  peer: string;
  ratios: number[];
}

// The default LOG_QUEUE_BYTES: the bound the log's backlog must stay within.
const LOG_QUEUE_BYTES = 32 * 1024 * 1024;
// What each interceptor may cost alone: its grpc-js counterpart's cost (issue #20).
const ALONE_TARGETS: Record<string, number> = { "request-id": 0.03, validation: 0.07 };
// The page's first-load JavaScript, gzipped (issue #32).
const PAGE_GZIP_TARGET_KB = 80;
// Over HTTP/1.1 (issue #32): the shipped server against the REST route with
// the same chain, and the server without interceptors against the bare route.
const HTTP1_TARGETS: readonly { id: string; peer: "rest-chain" | "rest"; atLeast: number }[] = [
  { id: "greeter-connect-json-h1-bare", peer: "rest", atLeast: 1.0 },
  { id: "greeter-connect-json-h1", peer: "rest-chain", atLeast: 1.2 },
  { id: "greeter-grpc-web", peer: "rest-chain", atLeast: 1.2 },
];
// The rows of the HTTP/1.1 table, each against both REST routes.
const HTTP1_ROWS = [
  "greeter-connect-json-h1",
  "greeter-connect-proto-h1",
  "greeter-grpc-web",
  "greeter-connect-json-h1-bare",
] as const;

interface Settings {
  quick: boolean;
  rounds: number;
  durationSec: number;
  h2: { connections: number; streamsPerConnection: number };
  h1: { connections: number; streamsPerConnection: number };
  /** The chain's cost in each side-by-side run (with and without it at once on one core), if measured. */
  chainSideBySideCosts: number[];
  chainSideBySideSec: number;
  /** Each interceptor's cost alone, measured like the chain's side by side (full runs). */
  interceptorsAlone: InterceptorAlone[];
  /** The shipped server against its peers, side by side (full runs). */
  peersSideBySide: PeerSideBySide[];
  logsUnderLoad?: LogsUnderLoad;
  pageWeight?: PageWeight;
  /** CPU profiles of the gaps behind the targets (full runs). */
  profiles: ProfileAnswer[];
  profileWindowSec: number;
  /** What was tried for each target not met (bench/targets-not-met.md), copied into full runs. */
  whatWasTried: string;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
const int = (n: number): string => Math.round(n).toLocaleString("en-US");
const fixed = (n: number, digits = 2): string => (Number.isFinite(n) ? n.toFixed(digits) : "–");

/** The Markdown report: the table, the performance targets, a bar chart. */
export function renderReport(rows: Row[], s: Settings): string {
  const byId = new Map(rows.map((r) => [r.c.id, r]));
  const rate = (id: string): number => {
    const row = byId.get(id);
    return row ? median(row.reqPerSec) : Number.NaN;
  };
  const grpcJs = rate("grpc-js");
  const raw = rate("raw");
  // Streaming rows are compared with the baselines' own GreetStream.
  const grpcJsStream = rate("grpc-js-stream");
  const rawStream = rate("raw-stream");

  const lines = [
    `# Benchmark: unary Greet and GreetStream, one core per server`,
    "",
    `${s.quick ? "Quick run" : "Full run"}: ${s.rounds} interleaved round(s) of about ${s.durationSec} s per case (after a warm-up), ` +
      `h2load on its own core; HTTP/2 cases ${s.h2.connections} connections × ${s.h2.streamsPerConnection} streams, ` +
      `HTTP/1.1 cases ${s.h1.connections} connections. Latency: one call in flight. ` +
      `Every case was first verified with a real client, and every measured call carried the verified body size.`,
    "",
    "| case | calls/s median (min–max) | × grpc-js | × raw ceiling | p50 ms | p99 ms | server CPU µs/call | peak RSS MB | bytes/call received |",
    "|---|---|---|---|---|---|---|---|---|",
  ];
  for (const r of rows) {
    const m = median(r.reqPerSec);
    const perMessage = r.c.messagesPerCall ? ` = ${int(m * r.c.messagesPerCall)} msg/s` : "";
    lines.push(
      `| ${r.c.label} | ${int(m)} (${int(Math.min(...r.reqPerSec))}–${int(Math.max(...r.reqPerSec))})${perMessage} ` +
        `| ${fixed(m / (r.c.messagesPerCall ? grpcJsStream : grpcJs))} | ${fixed(m / (r.c.messagesPerCall ? rawStream : raw))} ` +
        `| ${fixed(r.p50Ms, 3)} | ${fixed(r.p99Ms, 3)} | ${fixed(r.cpuMicrosPerCall, 0)} | ${fixed(r.peakRssMb, 0)} | ${fixed(r.bytesPerCall, 0)} |`,
    );
  }

  const greeter = byId.get("greeter-grpc");
  const stream = byId.get("greeter-stream");
  const target = (name: string, value: string, met: boolean): string =>
    `| ${name} | ${value} | ${met ? "met" : "**not met**"} |`;
  lines.push("", "## Targets", "", "| target | measured | |", "|---|---|---|");
  const peer = rate("grpc-js-chain");
  const label = (id: string): string => byId.get(id)?.c.label ?? "";
  const sideBySideRatio = (subjectId: string, peerId: string): number[] =>
    s.peersSideBySide.find((p) => p.subject === label(subjectId) && p.peer === label(peerId))?.ratios ?? [];
  const ratioDetail = (ratios: number[]): string =>
    ratios.length > 0 ? `; side by side ${fixed(median(ratios))}× (${ratios.map((r) => fixed(r)).join(", ")})` : "";
  if (greeter) {
    const g = median(greeter.reqPerSec);
    const vsGrpcJs = sideBySideRatio("greeter-grpc", "grpc-js");
    const vsPeer = sideBySideRatio("greeter-grpc", "grpc-js-chain");
    lines.push(
      target(
        "shipped gRPC unary ≥ 1.0× bare grpc-js (rounds and side by side)",
        `${fixed(g / grpcJs)}× in the rounds${ratioDetail(vsGrpcJs)}`,
        Math.min(g / grpcJs, ...(vsGrpcJs.length > 0 ? [median(vsGrpcJs)] : [])) >= 1,
      ),
      `| shipped gRPC unary against grpc-js with the same chain (report) | ${fixed(g / peer)}× in the rounds${ratioDetail(vsPeer)} | – |`,
      target("gRPC unary p99 at 1 in flight ≤ 0.5 ms", `${fixed(greeter.p99Ms, 3)} ms`, greeter.p99Ms <= 0.5),
      target("gRPC unary peak RSS ≤ 150 MB", `${fixed(greeter.peakRssMb, 0)} MB`, greeter.peakRssMb <= 150),
    );
  }
  const bareRow = byId.get("greeter-grpc-bare");
  if (bareRow) {
    const ratio = median(bareRow.reqPerSec) / raw;
    lines.push(target("INTERCEPTORS=none ≥ 0.9× raw node:http2", `${fixed(ratio)}×`, ratio >= 0.9));
  }
  for (const a of s.interceptorsAlone) {
    const limit = ALONE_TARGETS[a.name];
    if (limit === undefined) continue;
    const cost = median(a.costs);
    lines.push(
      target(
        `${a.name} alone costs ≤ ${fixed(limit * 100, 0)}% (its grpc-js counterpart's)`,
        `${fixed(cost * 100, 1)}%`,
        cost <= limit,
      ),
    );
  }
  for (const t of HTTP1_TARGETS) {
    const row = byId.get(t.id);
    const peerRow = byId.get(t.peer);
    if (!row || !peerRow) continue;
    const inRounds = median(row.reqPerSec) / rate(t.peer);
    const together = sideBySideRatio(t.id, t.peer);
    lines.push(
      target(
        `${row.c.label} ≥ ${fixed(t.atLeast, 1)}× ${peerRow.c.label} (rounds and side by side)`,
        `${fixed(inRounds)}× in the rounds${ratioDetail(together)}`,
        Math.min(inRounds, ...(together.length > 0 ? [median(together)] : [])) >= t.atLeast,
      ),
    );
  }
  if (stream?.c.messagesPerCall) {
    const mps = median(stream.reqPerSec) * stream.c.messagesPerCall;
    const ratios = `${fixed(median(stream.reqPerSec) / grpcJsStream)}× grpc-js, ${fixed(median(stream.reqPerSec) / rawStream)}× raw`;
    lines.push(target("GreetStream ≥ 200,000 messages/s", `${int(mps)} msg/s (${ratios})`, mps >= 200_000));
  }
  const bare = byId.get("greeter-grpc-bare");
  if (greeter && bare) {
    // On a host whose speed drifts by 2× within minutes, each measure can
    // draw a number far from the others: all three are shown. Side-by-side
    // runs share the core at the same time, so drift weighs on both alike.
    const ofMedians = 1 - median(greeter.reqPerSec) / median(bare.reqPerSec);
    const perRound = greeter.reqPerSec.map((r, i) => 1 - r / (bare.reqPerSec[i] ?? Number.NaN));
    const percents = (costs: number[]): string => costs.map((c) => `${fixed(c * 100, 0)}%`).join(", ");
    const sideBySide = s.chainSideBySideCosts;
    const detail =
      `; median of the rounds ${fixed(median(perRound) * 100, 1)}% (${percents(perRound)})` +
      (sideBySide.length > 0
        ? `; median of ${sideBySide.length} side-by-side runs of ${s.chainSideBySideSec} s (both servers at once on the one core) ${fixed(median(sideBySide) * 100, 1)}% (${percents(sideBySide)})`
        : "");
    lines.push(
      `| interceptor chain's cost (report; judged against the peer above) | ratio of medians ${fixed(ofMedians * 100, 1)}%${detail} | – |`,
    );
  }
  if (s.pageWeight) {
    const kb = s.pageWeight.gzipBytes / 1000;
    lines.push(
      target(
        `the page's JavaScript on first load ≤ ${PAGE_GZIP_TARGET_KB} kB gzipped`,
        `${fixed(kb, 1)} kB gzipped (${fixed(s.pageWeight.bytes / 1000, 0)} kB; ${s.pageWeight.files.map((f) => f.path).join(", ")})` +
          laterScripts(s.pageWeight.later),
        kb <= PAGE_GZIP_TARGET_KB,
      ),
    );
  }
  const logs = s.logsUnderLoad;
  if (logs) {
    lines.push(
      target(
        `log backlog after ${logs.seconds} s at full load within LOG_QUEUE_BYTES (32 MiB)`,
        `${fixed(logs.queuedBytesUnderLoad / 1024, 0)} KiB waiting, RSS ${fixed(logs.rssMbUnderLoad, 0)} MB (peak ${fixed(logs.peakRssMb, 0)} MB) ` +
          `at ${int(logs.callsPerSec)} calls/s; of ${int(logs.calls)} calls, ${int(logs.linesWritten)} lines written, ${int(logs.linesDropped)} dropped`,
        logs.queuedBytesUnderLoad <= LOG_QUEUE_BYTES,
      ),
    );
  }
  const two = byId.get("greeter-grpc-2-workers");
  if (greeter && two) {
    const factor = median(two.reqPerSec) / median(greeter.reqPerSec);
    lines.push(`| WORKERS scaling 1 → 2 (report; h2load shares the second core) | ${fixed(factor)}× | – |`);
  }
  const balanced = byId.get("greeter-grpc-haproxy");
  if (greeter && balanced) {
    const ratio = median(balanced.reqPerSec) / median(greeter.reqPerSec);
    lines.push(
      `| HAProxy + 3 replicas vs 1 replica direct, same core (report: the hop's cost) | ${fixed(ratio)}× | – |`,
    );
  }

  lines.push(...http1Section(rows, rate, sideBySideRatio));
  lines.push(...aloneSection(s.interceptorsAlone, s.chainSideBySideCosts, s.chainSideBySideSec));

  if (!s.quick) {
    lines.push(
      "",
      'For each target not met: this run\'s profile of the gap ("Where the time goes"), then what was tried.',
      ...profileSection(s.profiles, s.profileWindowSec),
      "",
      s.whatWasTried.trim(),
    );
  }

  const max = Math.max(...rows.filter((r) => !r.c.messagesPerCall).map((r) => median(r.reqPerSec)));
  lines.push("", "## Unary calls/s", "", "```");
  for (const r of rows) {
    if (r.c.messagesPerCall) continue;
    const m = median(r.reqPerSec);
    lines.push(`${r.c.label.padEnd(48)} ${"█".repeat(Math.max(1, Math.round((m / max) * 40))).padEnd(40)} ${int(m)}`);
  }
  lines.push("```", "");
  return lines.join("\n");
}

/** The page's scripts loaded after the first render, largest first, gzipped: what a first call adds. */
function laterScripts(later: PageWeight["later"]): string {
  if (later.length === 0) return "";
  const sorted = [...later].sort((a, b) => b.gzipBytes - a.gzipBytes);
  return `; loaded later: ${sorted.map((f) => `${f.path} ${fixed(f.gzipBytes / 1000, 1)} kB`).join(", ")}`;
}

/**
 * Greeter over HTTP/1.1 against the REST route, with the same chain and bare:
 * the ratio of calls/s in the rounds, and side by side where measured.
 */
function http1Section(
  rows: Row[],
  rate: (id: string) => number,
  sideBySideRatio: (subjectId: string, peerId: string) => number[],
): string[] {
  const present = HTTP1_ROWS.map((id) => rows.find((r) => r.c.id === id)).filter((r): r is Row => r !== undefined);
  if (present.length === 0 || !(rate("rest") > 0 || rate("rest-chain") > 0)) return [];
  const cell = (row: Row, peer: string): string => {
    const inRounds = median(row.reqPerSec) / rate(peer);
    if (!Number.isFinite(inRounds)) return "–";
    const together = sideBySideRatio(row.c.id, peer);
    return together.length > 0 ? `${fixed(inRounds)} (side by side ${fixed(median(together))})` : fixed(inRounds);
  };
  return [
    "",
    "## HTTP/1.1 against REST",
    "",
    "Greeter's calls/s over the Fastify REST route's: the route with the same chain (request id, a pino line " +
      "per call, prom-client, ajv checking the proto's rules; `servers/fastify-rest-chain.ts`) and the bare route. " +
      "The median of the rounds' ratio, and of the side-by-side runs (both servers at once on the one core) where a full run made them.",
    "",
    "| Greeter over HTTP/1.1 | × REST with the same chain | × bare REST |",
    "|---|---|---|",
    ...present.map((row) => `| ${row.c.label} | ${cell(row, "rest-chain")} | ${cell(row, "rest")} |`),
  ];
}

/** What each interceptor costs alone, next to the whole chain, both measured side by side. */
function aloneSection(alone: InterceptorAlone[], chain: number[], runSec: number): string[] {
  if (alone.length === 0) return [];
  const cost = (costs: number[]): string =>
    `${fixed(median(costs) * 100, 1)}% | ${costs.map((c) => `${fixed(c * 100, 0)}%`).join(", ")}`;
  const lines = [
    "",
    "## What each interceptor costs alone",
    "",
    "The server with one interceptor only (`INTERCEPTORS=<name>`), side by side with the server without any " +
      `(both at once on the one server core, each under its own h2load, runs of ${runSec} s), as the whole chain ` +
      "was measured: the share of unary gRPC throughput it costs. Costs measured alone do not add up to the " +
      "chain's: each alone also pays for the chain's plumbing, and the figures are each a run's own.",
    "",
    "| interceptors | cost, median | each run |",
    "|---|---|---|",
  ];
  if (chain.length > 0) lines.push(`| the whole chain | ${cost(chain)} |`);
  for (const a of alone) lines.push(`| ${a.name} only | ${cost(a.costs)} |`);
  return lines;
}

/** One table per profiled gap: where each side's CPU time goes, per call. */
function profileSection(answers: ProfileAnswer[], windowSec: number): string[] {
  if (answers.length === 0) return [];
  const lines = [
    "",
    "## Where the time goes (CPU profiles, this run)",
    "",
    "After the timed rounds, a second instance of each server below ran with V8's sampling profiler " +
      `(in-process, 250 µs interval) through two windows of about ${windowSec} s each of the same load as its row, ` +
      "in ABBA order with the server it is compared with. Self time per call (per message for streams), by where the code lives; idle " +
      "time left out. The profiler's own cost is in both columns: compare the columns, not these figures with " +
      "the CPU column above. The sums at the end split the gap: code only one side ran (the chain's own " +
      "interceptors, say), and code both ran, which may run slower or faster on one side (or the host's speed " +
      "drifted between the windows).",
  ];
  const micros = (n: number): string => fixed(n, n < 10 ? 1 : 0);
  for (const answer of answers) {
    const { question } = answer;
    if ("error" in answer) {
      lines.push("", `### ${question.title}`, "", `Not profiled in this run: ${answer.error}`);
      continue;
    }
    const { comparison, calls, unit } = answer;
    lines.push(
      "",
      `### ${question.title}`,
      "",
      `${int(calls)} calls profiled on each side.`,
      "",
      `| where | ${question.subjectLabel}, µs/${unit} | ${question.referenceLabel}, µs/${unit} | difference |`,
      "|---|---|---|---|",
    );
    const sums = [comparison.onlyOneSide, comparison.both, comparison.total];
    for (const l of [...comparison.lines, ...sums]) {
      const gap = l.subjectMicros - l.referenceMicros;
      const name = sums.includes(l) ? `**${l.category}**` : l.category;
      lines.push(
        `| ${name} | ${micros(l.subjectMicros)} | ${micros(l.referenceMicros)} | ${gap >= 0 ? "+" : "−"}${micros(Math.abs(gap))} |`,
      );
    }
  }
  return lines;
}
