import { Counter, Histogram, type Registry } from "prom-client";

/*
 * prom-client metrics whose series are plain numbers, handed to prom-client
 * only when the registry is scraped.
 *
 * Why: prom-client finds a series on every `inc` or `observe` by building a
 * string from its labels and looking it up, even through `labels(...)`
 * children; with five updates per RPC that was a quarter of the cost of
 * the whole interceptor chain. Here a caller asks for a series once, keeps
 * it, and updates numbers in it. A scrape shows exactly what prom-client's
 * own metric would after the same updates (the tests compare the two).
 */

type Labels<L extends string> = Partial<Record<L, string | number>>;

export interface PlainMetricOptions<L extends string> {
  name: string;
  help: string;
  labelNames: readonly L[];
  registers: Registry[];
}

/** One counter series: add to `value`. */
export interface CounterSeries {
  value: number;
}

/** A Counter of plain-number series. */
export class PlainCounter<L extends string> extends Counter<L> {
  private readonly all: { labels: Labels<L>; series: CounterSeries }[] = [];

  constructor(options: PlainMetricOptions<L>) {
    super(options);
  }

  /** A new series with these label values; ask once per label set and keep it. */
  seriesFor(labels: Labels<L>): CounterSeries {
    const series = { value: 0 };
    this.all.push({ labels, series });
    return series;
  }

  override async get(): ReturnType<Counter<L>["get"]> {
    const metric = await super.get();
    return { ...metric, values: this.all.map(({ labels, series }) => ({ labels, value: series.value })) };
  }
}

/** The buckets prom-client uses when none are given, in seconds. */
export const DEFAULT_BUCKETS: readonly number[] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** One histogram series. */
export class HistogramSeries {
  /** Observations per bucket, not cumulative: counts[i] for bounds[i-1] < value ≤ bounds[i]. */
  readonly counts: number[];
  sum = 0;
  count = 0;

  constructor(private readonly bounds: readonly number[]) {
    this.counts = bounds.map(() => 0);
  }

  observe(value: number): void {
    const { bounds } = this;
    let i = 0;
    while (i < bounds.length && value > (bounds[i] as number)) i++;
    if (i < bounds.length) this.counts[i] = (this.counts[i] as number) + 1;
    this.sum += value;
    this.count++;
  }
}

/** A Histogram of plain-number series; `le` is the label it adds to `_bucket` samples. */
export class PlainHistogram<L extends string> extends Histogram<L | "le"> {
  private readonly all: { labels: Labels<L | "le">; series: HistogramSeries }[] = [];
  private readonly bounds: readonly number[];
  /**
   * The same histogram, registered nowhere and never observed: its `get()`
   * gives the scrape's name, help, type and aggregator as prom-client
   * spells them, without this one's own empty series.
   */
  private readonly twin: Histogram<L>;

  constructor(options: PlainMetricOptions<L> & { buckets?: readonly number[] }) {
    const bounds = options.buckets ?? DEFAULT_BUCKETS;
    super({ ...options, buckets: [...bounds] });
    this.bounds = [...bounds];
    this.twin = new Histogram({ ...options, buckets: [...bounds], registers: [] });
  }

  /** A new series with these label values; ask once per label set and keep it. */
  seriesFor(labels: Labels<L>): HistogramSeries {
    const series = new HistogramSeries(this.bounds);
    // Labels without `le` are labels that may have one: a widening, checked by hand.
    this.all.push({ labels: labels as Labels<L | "le">, series });
    return series;
  }

  override async get(): ReturnType<Histogram<L | "le">["get"]> {
    const metric = await this.twin.get();
    const bucket = `${metric.name}_bucket`;
    const values = this.all.flatMap(({ labels, series }) => {
      let cumulative = 0;
      return [
        ...this.bounds.map((le, i) => {
          cumulative += series.counts[i] as number;
          return { labels: { ...labels, le }, value: cumulative, metricName: bucket };
        }),
        { labels: { ...labels, le: "+Inf" }, value: series.count, metricName: bucket },
        { labels, value: series.sum, metricName: `${metric.name}_sum` },
        { labels, value: series.count, metricName: `${metric.name}_count` },
      ];
    });
    return { ...metric, values };
  }

  /**
   * What prom-client's registry prints a histogram from, when a metric has
   * it (Histogram's own, not in its types, reads the series prom-client
   * keeps, which stay empty here): the same samples as `get()`.
   */
  getForPromString(): ReturnType<Histogram<L | "le">["get"]> {
    return this.get();
  }
}
