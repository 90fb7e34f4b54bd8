import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { BenchCase } from "./cases.js";
import { type InterceptorAlone, type PeerSideBySide, type Row, renderReport } from "./report.js";

const settings = (interceptorsAlone: InterceptorAlone[], chainSideBySideCosts: number[]) => ({
  quick: false,
  rounds: 3,
  durationSec: 10,
  h2: { connections: 8, streamsPerConnection: 32 },
  h1: { connections: 64, streamsPerConnection: 1 },
  chainSideBySideCosts,
  chainSideBySideSec: 5,
  interceptorsAlone,
  peersSideBySide: [],
  profiles: [],
  profileWindowSec: 3,
  whatWasTried: "## What was tried",
});

/** The rows of the section's table, as cells. */
function aloneRows(report: string): string[][] {
  const section = report.split("## What each interceptor costs alone")[1];
  assert.ok(section !== undefined, "the report has the section");
  return section
    .split("\n")
    .filter((l) => l.startsWith("| ") && !l.startsWith("| interceptors"))
    .map((l) =>
      l
        .slice(2, -2)
        .split(" | ")
        .map((cell) => cell.trim()),
    );
}

describe("renderReport: what each interceptor costs alone", () => {
  it("lists the whole chain, then each interceptor in the order run, with the median and every run", () => {
    const report = renderReport(
      [],
      settings(
        [
          { name: "request-id", costs: [0.09, 0.05, 0.07] },
          { name: "validation", costs: [0.2, 0.12, 0.14, 0.13] },
        ],
        [0.3, 0.28, 0.25],
      ),
    );
    assert.deepEqual(aloneRows(report), [
      ["the whole chain", "28.0%", "30%, 28%, 25%"],
      ["request-id only", "7.0%", "9%, 5%, 7%"],
      // Of an even count, the upper of the two middle runs, as for the chain.
      ["validation only", "14.0%", "20%, 12%, 14%, 13%"],
    ]);
  });

  it("is left out when nothing was measured alone (quick runs)", () => {
    const report = renderReport([], settings([], [0.3]));
    assert.ok(!report.includes("What each interceptor costs alone"));
  });
});

describe("renderReport: the targets", () => {
  const targetRow = (report: string, start: string): string[] | undefined =>
    report
      .split("\n")
      .find((l) => l.startsWith(`| ${start}`))
      ?.slice(2, -2)
      .split(" | ")
      .map((cell) => cell.trim());

  it("judges the request id and validation alone against their grpc-js counterparts' costs", () => {
    const report = renderReport(
      [],
      settings(
        [
          { name: "request-id", costs: [0.04, 0.05, 0.06] },
          { name: "metrics", costs: [0.2] },
          { name: "validation", costs: [0.06, 0.05, 0.07] },
        ],
        [],
      ),
    );
    assert.deepEqual(targetRow(report, "request-id alone"), [
      "request-id alone costs ≤ 3% (its grpc-js counterpart's)",
      "5.0%",
      "**not met**",
    ]);
    assert.deepEqual(targetRow(report, "validation alone")?.slice(1), ["6.0%", "met"]);
    assert.equal(targetRow(report, "metrics alone"), undefined, "an interceptor without a target has no row");
  });

  it("reports the page's first-load JavaScript against 80 kB gzipped", () => {
    const pageWeight = (gzipBytes: number) => ({
      files: [{ path: "/assets/index.js", bytes: gzipBytes * 3, gzipBytes }],
      bytes: gzipBytes * 3,
      gzipBytes,
      later: [],
    });
    const heavy = renderReport([], { ...settings([], []), pageWeight: pageWeight(134_000) });
    assert.equal(targetRow(heavy, "the page's JavaScript")?.[2], "**not met**");
    assert.match(
      targetRow(heavy, "the page's JavaScript")?.[1] ?? "",
      /^134\.0 kB gzipped \(402 kB; \/assets\/index\.js\)$/,
    );
    const light = renderReport([], { ...settings([], []), pageWeight: pageWeight(80_000) });
    assert.equal(targetRow(light, "the page's JavaScript")?.[0], "the page's JavaScript on first load ≤ 80 kB gzipped");
    assert.equal(targetRow(light, "the page's JavaScript")?.[2], "met");
    const over = renderReport([], { ...settings([], []), pageWeight: pageWeight(80_100) });
    assert.equal(targetRow(over, "the page's JavaScript")?.[2], "**not met**");
  });

  it("says what the page loads after its first render, largest first, without counting it", () => {
    const later = [
      { path: "/assets/tracing.js", bytes: 40_000, gzipBytes: 13_500 },
      { path: "/assets/api.js", bytes: 120_000, gzipBytes: 33_900 },
    ];
    const report = renderReport([], {
      ...settings([], []),
      pageWeight: {
        files: [{ path: "/assets/index.js", bytes: 220_000, gzipBytes: 70_600 }],
        bytes: 220_000,
        gzipBytes: 70_600,
        later,
      },
    });
    assert.deepEqual(targetRow(report, "the page's JavaScript")?.slice(1), [
      "70.6 kB gzipped (220 kB; /assets/index.js); loaded later: /assets/api.js 33.9 kB, /assets/tracing.js 13.5 kB",
      "met",
    ]);
  });

  /** A row of `label` at these calls/s, one per round. */
  const row = (id: string, label: string, reqPerSec: number[]): Row => ({
    c: {
      id,
      label,
      server: { command: ["true"] },
      request: { path: "/", headers: {} },
      http1: true,
      verify: async () => {},
    } satisfies BenchCase,
    reqPerSec,
    cpuMicrosPerCall: 50,
    p50Ms: 0.1,
    p99Ms: 0.5,
    peakRssMb: 100,
    bytesPerCall: 200,
  });
  const http1Rows = [
    row("rest", "REST", [10_000, 10_000, 10_000]),
    row("rest-chain", "REST with the chain", [6_000, 6_000, 6_000]),
    row("greeter-connect-json-h1", "Connect JSON", [7_500, 7_000, 8_000]),
    row("greeter-connect-proto-h1", "Connect binary", [9_000, 9_000, 9_000]),
    row("greeter-grpc-web", "gRPC-Web", [7_000, 7_100, 6_900]),
    row("greeter-connect-json-h1-bare", "Connect JSON bare", [10_500, 10_000, 11_000]),
  ];

  it("judges HTTP/1.1: shipped ≥ 1.2× REST with the same chain, bare Connect JSON ≥ 1.0× bare REST", () => {
    const report = renderReport(http1Rows, settings([], []));
    // 7,500 / 6,000 = 1.25; 7,000 / 6,000 = 1.17; 10,500 / 10,000 = 1.05.
    assert.deepEqual(targetRow(report, "Connect JSON ≥"), [
      "Connect JSON ≥ 1.2× REST with the chain (rounds and side by side)",
      "1.25× in the rounds",
      "met",
    ]);
    assert.deepEqual(targetRow(report, "gRPC-Web ≥")?.slice(1), ["1.17× in the rounds", "**not met**"]);
    assert.deepEqual(targetRow(report, "Connect JSON bare ≥")?.slice(0, 1), [
      "Connect JSON bare ≥ 1.0× REST (rounds and side by side)",
    ]);
    assert.equal(targetRow(report, "Connect JSON bare ≥")?.[2], "met");
    assert.equal(targetRow(report, "Connect binary ≥"), undefined, "Connect binary is reported, not judged");
  });

  it("fails an HTTP/1.1 target that the side-by-side runs miss, and shows them", () => {
    const peersSideBySide: PeerSideBySide[] = [
      { subject: "Connect JSON", peer: "REST with the chain", ratios: [1.1, 1.15, 1.12, 1.3] },
    ];
    const report = renderReport(http1Rows, { ...settings([], []), peersSideBySide });
    assert.deepEqual(targetRow(report, "Connect JSON ≥")?.slice(1), [
      "1.25× in the rounds; side by side 1.15× (1.10, 1.15, 1.12, 1.30)",
      "**not met**",
    ]);
  });

  it("puts every HTTP/1.1 row against both REST routes in a table of its own", () => {
    const peersSideBySide: PeerSideBySide[] = [{ subject: "gRPC-Web", peer: "REST", ratios: [0.7, 0.72, 0.68] }];
    const report = renderReport(http1Rows, { ...settings([], []), peersSideBySide });
    const section = report.split("## HTTP/1.1 against REST")[1]?.split("\n## ")[0] ?? "";
    const table = section
      .split("\n")
      .filter((l) => l.startsWith("| ") && !l.startsWith("| Greeter over"))
      .map((l) =>
        l
          .slice(2, -2)
          .split(" | ")
          .map((c) => c.trim()),
      );
    assert.deepEqual(table, [
      ["Connect JSON", "1.25", "0.75"],
      ["Connect binary", "1.50", "0.90"],
      ["gRPC-Web", "1.17", "0.70 (side by side 0.70)"],
      ["Connect JSON bare", "1.75", "1.05"],
    ]);
  });
});
