import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type InterceptorAlone, renderReport } from "./report.js";

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

  it("reports the page's first-load JavaScript against 60 kB gzipped", () => {
    const pageWeight = (gzipBytes: number) => ({
      files: [{ path: "/assets/index.js", bytes: gzipBytes * 3, gzipBytes }],
      bytes: gzipBytes * 3,
      gzipBytes,
    });
    const heavy = renderReport([], { ...settings([], []), pageWeight: pageWeight(134_000) });
    assert.equal(targetRow(heavy, "the page's JavaScript")?.[2], "**not met**");
    assert.match(
      targetRow(heavy, "the page's JavaScript")?.[1] ?? "",
      /^134\.0 kB gzipped \(402 kB; \/assets\/index\.js\)$/,
    );
    const light = renderReport([], { ...settings([], []), pageWeight: pageWeight(59_000) });
    assert.equal(targetRow(light, "the page's JavaScript")?.[2], "met");
  });
});
