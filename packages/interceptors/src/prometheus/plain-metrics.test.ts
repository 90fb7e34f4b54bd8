import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Counter, Histogram, Registry } from "prom-client";
import { DEFAULT_BUCKETS, PlainCounter, PlainHistogram } from "./plain-metrics.js";

const labelNames = ["method", "code"] as const;
const series = [
  { method: "Greet", code: "OK" },
  { method: "Greet", code: "INVALID_ARGUMENT" },
  { method: "GreetStream", code: "OK" },
];

// Values on and around bucket bounds, below the first and past the last.
const observations = [0, 0.001, 0.005, 0.0051, 0.01, 0.3, 0.5, 0.75, 2.5, 9.99, 10, 11, 120];

/** The exposition text of one registry, for comparing two metrics under one name. */
async function scrape(register: (registry: Registry) => void): Promise<string> {
  const registry = new Registry();
  register(registry);
  return registry.metrics();
}

describe("PlainCounter", () => {
  it("scrapes exactly like prom-client's Counter after the same increments", async () => {
    const options = { name: "calls_total", help: "Calls.", labelNames };
    const expected = await scrape((registry) => {
      const counter = new Counter({ ...options, registers: [registry] });
      series.forEach((labels, i) => {
        for (let n = 0; n <= i * 3; n++) counter.inc(labels);
      });
    });
    const actual = await scrape((registry) => {
      const counter = new PlainCounter({ ...options, registers: [registry] });
      series.forEach((labels, i) => {
        const s = counter.seriesFor(labels);
        for (let n = 0; n <= i * 3; n++) s.value++;
      });
    });
    assert.match(expected, /calls_total\{method="GreetStream",code="OK"\} 7/);
    assert.equal(actual, expected);
  });

  it("shows no series before one is asked for, and a series at 0 once it is", async () => {
    const options = { name: "idle_total", help: "Idle.", labelNames, registers: [] };
    const registry = new Registry();
    const counter = new PlainCounter({ ...options, registers: [registry] });
    assert.doesNotMatch(await registry.metrics(), /idle_total\{/);
    counter.seriesFor({ method: "Greet", code: "OK" });
    assert.match(await registry.metrics(), /idle_total\{method="Greet",code="OK"\} 0/);
  });
});

/**
 * The samples of an exposition, each as `name{labels in name order} value`,
 * sorted: what Prometheus reads, whatever order the labels were printed in.
 */
function samples(text: string): string[] {
  return text
    .split("\n")
    .filter((line) => line !== "" && !line.startsWith("#"))
    .map((line) => {
      const match = /^(\w+)(?:\{(.*)\})? (\S+)$/.exec(line);
      assert.ok(match, `not a sample line: ${line}`);
      const [, name, labels = "", value] = match;
      const sorted = labels === "" ? [] : (labels.match(/\w+="[^"]*"/g) ?? []).sort();
      return `${name}{${sorted.join(",")}} ${value}`;
    })
    .sort();
}

describe("PlainHistogram", () => {
  for (const buckets of [undefined, [0.1, 1, 5]]) {
    it(`scrapes like prom-client's Histogram after the same observations (${buckets ? "own" : "default"} buckets)`, async () => {
      const options = { name: "call_seconds", help: "Time.", labelNames, ...(buckets && { buckets }) };
      const expected = await scrape((registry) => {
        const histogram = new Histogram({ ...options, registers: [registry] });
        series.forEach((labels, i) => {
          for (const value of observations.slice(i)) histogram.observe(labels, value);
        });
      });
      const actual = await scrape((registry) => {
        const histogram = new PlainHistogram({ ...options, registers: [registry] });
        series.forEach((labels, i) => {
          const s = histogram.seriesFor(labels);
          for (const value of observations.slice(i)) s.observe(value);
        });
      });
      assert.match(expected, /call_seconds_bucket\{le="\+Inf",method="Greet",code="OK"\} 13/);
      assert.equal(samples(expected).length, series.length * ((buckets ?? DEFAULT_BUCKETS).length + 3));
      assert.deepEqual(samples(actual), samples(expected));
      assert.deepEqual(actual.split("\n").slice(0, 2), expected.split("\n").slice(0, 2), "HELP and TYPE");
    });
  }

  it("gives cluster aggregation the same JSON as prom-client's Histogram", async () => {
    const json = async (make: (registry: Registry) => (value: number) => void) => {
      const registry = new Registry();
      const observe = make(registry);
      for (const value of observations) observe(value);
      return registry.getMetricsAsJSON();
    };
    const options = { name: "call_seconds", help: "Time.", labelNames };
    const labels = { method: "Greet", code: "OK" };
    const expected = await json((registry) => {
      const h = new Histogram({ ...options, registers: [registry] });
      return (value) => h.observe(labels, value);
    });
    const actual = await json((registry) => {
      const s = new PlainHistogram({ ...options, registers: [registry] }).seriesFor(labels);
      return (value) => s.observe(value);
    });
    // The samples (name, labels, value); key order and prom-client's empty exemplars aside.
    const sortValues = (metrics: typeof expected) =>
      metrics.map((m) => ({
        ...m,
        values: m.values
          .map((v) => {
            const labels = Object.entries(v.labels).sort(([a], [b]) => a.localeCompare(b));
            const name = "metricName" in v ? v.metricName : m.name;
            return JSON.stringify([name, labels, v.value]);
          })
          .sort(),
      }));
    assert.deepEqual(sortValues(actual), sortValues(expected));
  });
});
