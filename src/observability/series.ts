// Labeled counters and histograms cheap enough for every exchange, shown through prom-client.
// prom-client's own instruments hash a label object on every call (~0.7-1 µs each, measured on
// this machine); an exchange touches a dozen series. Here a series is found through one Map per
// label, keyed by the values the gateway already holds (the same string objects, numbers for
// statuses), and a hit is a few plain additions. prom-client still does what it is good at: the
// text format, the process metrics and the cluster aggregation, through each family's get().
import type { Registry } from 'prom-client';

export type LabelKey = string | number | null | undefined;

/** A family's exposition, in the shape prom-client's registry and aggregator read. */
interface MetricValue {
  value: number;
  labels: Record<string, string | number>;
  metricName?: string;
}

interface MetricData {
  name: string;
  help: string;
  type: 'counter' | 'histogram' | 'gauge';
  values: MetricValue[];
  aggregator: string;
}

/** Past this many series a family stops growing; new label sets count under labels "other". */
export const MAX_SERIES = 5000;

/** Turns one label key (as looked up) into its exposed value. */
export type LabelText = (key: LabelKey) => string;

export const plainLabel: LabelText = (key) => (key === null || key === undefined ? '' : String(key));

/**
 * Leaves found by up to six label keys, one Map per level. Past MAX_SERIES leaves, new key sets
 * share one overflow leaf (made with every key "other").
 */
export class SeriesIndex<S> {
  private readonly root = new Map<LabelKey, unknown>();
  private size = 0;
  private overflow: S | undefined;

  constructor(
    private readonly depth: number,
    private readonly make: (keys: readonly LabelKey[], overflow: boolean) => S,
  ) {}

  at(k0?: LabelKey, k1?: LabelKey, k2?: LabelKey, k3?: LabelKey, k4?: LabelKey, k5?: LabelKey): S {
    const depth = this.depth;
    let node = this.root;
    for (let level = 0; level < depth - 1; level++) {
      const key = level === 0 ? k0 : level === 1 ? k1 : level === 2 ? k2 : level === 3 ? k3 : k4;
      let next = node.get(key) as Map<LabelKey, unknown> | undefined;
      if (next === undefined) {
        if (this.size >= MAX_SERIES) return this.overflowLeaf();
        next = new Map();
        node.set(key, next);
      }
      node = next;
    }
    const last =
      depth === 1 ? k0 : depth === 2 ? k1 : depth === 3 ? k2 : depth === 4 ? k3 : depth === 5 ? k4 : k5;
    const leaf = node.get(last) as S | undefined;
    if (leaf !== undefined) return leaf;
    if (this.size >= MAX_SERIES) return this.overflowLeaf();
    const made = this.make([k0, k1, k2, k3, k4, k5].slice(0, depth), false);
    node.set(last, made);
    this.size += 1;
    return made;
  }

  private overflowLeaf(): S {
    this.overflow ??= this.make(new Array<LabelKey>(this.depth).fill('other'), true);
    return this.overflow;
  }
}

abstract class Family<S> {
  protected readonly series: Array<{ labels: Record<string, string>; leaf: S }> = [];
  private readonly index: SeriesIndex<S>;

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly labelNames: readonly string[],
    private readonly labelTexts: readonly LabelText[] = [],
    registry?: Registry,
  ) {
    this.index = new SeriesIndex(labelNames.length, (keys, overflow) => {
      const leaf = this.newLeaf();
      const labels: Record<string, string> = {};
      for (let i = 0; i < keys.length; i++) {
        const text = overflow ? 'other' : (this.labelTexts[i] ?? plainLabel)(keys[i]);
        if (text !== '') labels[this.labelNames[i]!] = text;
      }
      this.series.push({ labels, leaf });
      return leaf;
    });
    // prom-client's registry takes any object with a name and an async get().
    registry?.registerMetric(this as unknown as Parameters<Registry['registerMetric']>[0]);
  }

  protected abstract newLeaf(): S;

  /** The series for these label keys (as many as the family has labels). */
  at(k0?: LabelKey, k1?: LabelKey, k2?: LabelKey, k3?: LabelKey, k4?: LabelKey, k5?: LabelKey): S {
    return this.index.at(k0, k1, k2, k3, k4, k5);
  }

  protected abstract values(): MetricValue[];

  protected abstract get type(): MetricData['type'];

  get aggregator(): string {
    return 'sum';
  }

  async get(): Promise<MetricData> {
    return {
      name: this.name,
      help: this.help,
      type: this.type,
      values: this.values(),
      aggregator: this.aggregator,
    };
  }
}

export interface CounterLeaf {
  value: number;
}

export class CounterFamily extends Family<CounterLeaf> {
  protected newLeaf(): CounterLeaf {
    return { value: 0 };
  }

  protected get type(): 'counter' {
    return 'counter';
  }

  protected values(): MetricValue[] {
    return this.series.map(({ labels, leaf }) => ({ value: leaf.value, labels }));
  }
}

export class HistogramLeaf {
  /** Per bucket (not cumulative), the last one past every bound (+Inf). */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(private readonly bounds: readonly number[]) {
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(value: number): void {
    const bounds = this.bounds;
    let i = 0;
    while (i < bounds.length && value > bounds[i]!) i++;
    this.counts[i]! += 1;
    this.sum += value;
    this.count += 1;
  }
}

export class HistogramFamily extends Family<HistogramLeaf> {
  constructor(
    name: string,
    help: string,
    labelNames: readonly string[],
    private readonly bounds: readonly number[],
    labelTexts: readonly LabelText[] = [],
    registry?: Registry,
  ) {
    super(name, help, labelNames, labelTexts, registry);
  }

  protected newLeaf(): HistogramLeaf {
    return new HistogramLeaf(this.bounds);
  }

  protected get type(): 'histogram' {
    return 'histogram';
  }

  protected values(): MetricValue[] {
    const out: MetricValue[] = [];
    const bucket = `${this.name}_bucket`;
    for (const { labels, leaf } of this.series) {
      let cumulative = 0;
      for (let i = 0; i <= this.bounds.length; i++) {
        cumulative += leaf.counts[i]!;
        const le = i < this.bounds.length ? this.bounds[i]! : '+Inf';
        out.push({ value: cumulative, labels: { ...labels, le }, metricName: bucket });
      }
      out.push({ value: leaf.sum, labels, metricName: `${this.name}_sum` });
      out.push({ value: leaf.count, labels, metricName: `${this.name}_count` });
    }
    return out;
  }
}

/** A gauge whose values are worked out when scraped. */
export class ScrapedGauge {
  constructor(
    readonly name: string,
    readonly help: string,
    private readonly read: () => MetricValue[] | Promise<MetricValue[]>,
    readonly aggregator: 'sum' | 'max' | 'min' | 'first' = 'sum',
    registry?: Registry,
  ) {
    registry?.registerMetric(this as unknown as Parameters<Registry['registerMetric']>[0]);
  }

  async get(): Promise<MetricData> {
    return {
      name: this.name,
      help: this.help,
      type: 'gauge',
      values: await this.read(),
      aggregator: this.aggregator,
    };
  }
}
