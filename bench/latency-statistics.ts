/** One event's end-to-end latency, and when (since the paced producer started) it was sent. */
export interface LatencySample {
  sentAtMs: number;
  latencyMs: number;
}

export interface LatencySummary {
  count: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
}

export interface LatencySecond {
  /** whole seconds since the producer started */
  second: number;
  count: number;
  p50: number;
  p99: number;
}

/**
 * The nearest-rank percentile (the smallest value with at least p% of the values at or below
 * it): always a latency some event really had, never an interpolation.
 */
export function percentile(sortedAscending: readonly number[], p: number): number {
  if (sortedAscending.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sortedAscending.length);
  return sortedAscending[Math.min(Math.max(rank, 1), sortedAscending.length) - 1] as number;
}

export function summariseLatencies(latenciesMs: readonly number[]): LatencySummary {
  const sorted = [...latenciesMs].sort((a, b) => a - b);
  const total = sorted.reduce((sum, value) => sum + value, 0);
  return {
    count: sorted.length,
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
    max: sorted.length > 0 ? (sorted[sorted.length - 1] as number) : Number.NaN,
    mean: sorted.length > 0 ? total / sorted.length : Number.NaN,
  };
}

/** p50 and p99 per second of sending, for the chart's latency-over-time line. */
export function latencyBySecond(samples: readonly LatencySample[]): LatencySecond[] {
  const bySecond = new Map<number, number[]>();
  for (const sample of samples) {
    const second = Math.floor(sample.sentAtMs / 1000);
    const bucket = bySecond.get(second) ?? [];
    bucket.push(sample.latencyMs);
    bySecond.set(second, bucket);
  }
  return [...bySecond.entries()]
    .sort(([a], [b]) => a - b)
    .map(([second, latencies]) => {
      const summary = summariseLatencies(latencies);
      return { second, count: summary.count, p50: summary.p50, p99: summary.p99 };
    });
}
