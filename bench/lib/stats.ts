// Small statistics for the benchmarks: medians, percentiles and a mergeable log-bucket latency histogram.

/** The median of `xs` (NaN for none). */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

/** Rounds to `digits` decimals (for JSON and tables). */
export function round(x: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** Buckets per e-fold of latency: about 2 % wide, so percentiles are within ~1 % of the true value. */
const BUCKETS_PER_E = 50;

/**
 * Latency histogram in microseconds with logarithmic buckets (bounded memory however many samples), mergeable
 * across rounds. Percentiles are bucket midpoints.
 */
export class Histogram {
  private readonly counts = new Map<number, number>();
  count = 0;
  private min = Number.POSITIVE_INFINITY;
  private max = 0;

  /** Records one latency, in milliseconds. */
  record(ms: number): void {
    const us = Math.max(1, ms * 1000);
    const k = Math.round(Math.log(us) * BUCKETS_PER_E);
    this.counts.set(k, (this.counts.get(k) ?? 0) + 1);
    this.count++;
    if (ms < this.min) this.min = ms;
    if (ms > this.max) this.max = ms;
  }

  merge(other: Histogram): this {
    for (const [k, n] of other.counts) this.counts.set(k, (this.counts.get(k) ?? 0) + n);
    this.count += other.count;
    this.min = Math.min(this.min, other.min);
    this.max = Math.max(this.max, other.max);
    return this;
  }

  /** The `p`-th percentile (0–100), in milliseconds. */
  percentile(p: number): number {
    if (this.count === 0) return Number.NaN;
    if (p >= 100) return this.max;
    const want = Math.max(1, Math.ceil((p / 100) * this.count));
    let seen = 0;
    for (const k of [...this.counts.keys()].sort((a, b) => a - b)) {
      seen += this.counts.get(k) as number;
      if (seen >= want) return Math.min(this.max, Math.max(this.min, Math.exp(k / BUCKETS_PER_E) / 1000));
    }
    return this.max;
  }

  /** p50/p90/p99/max in ms, and a coarse histogram (upper bound in ms → count) for the JSON results. */
  summary(): { count: number; p50: number; p90: number; p99: number; max: number; buckets: Record<string, number> } {
    // Coarse, human-readable upper bounds (1-2-5 steps), in increasing order.
    const bounds = [0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000];
    const byBound = new Map<string, number>();
    for (const [k, n] of [...this.counts].sort((a, b) => a[0] - b[0])) {
      const ms = Math.exp(k / BUCKETS_PER_E) / 1000;
      const bound = bounds.find((b) => ms <= b);
      const key = bound === undefined ? '>5000' : `<=${bound}`;
      byBound.set(key, (byBound.get(key) ?? 0) + n);
    }
    const buckets = Object.fromEntries(byBound);
    return {
      count: this.count,
      p50: round(this.percentile(50), 3),
      p90: round(this.percentile(90), 3),
      p99: round(this.percentile(99), 3),
      max: round(this.max, 3),
      buckets,
    };
  }
}
