/** Statistics of the benchmark. Pure. */

export interface Spread {
  readonly median: number;
  readonly min: number;
  readonly max: number;
}

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank];
}

export function spread(values: readonly number[]): Spread {
  return { median: percentile(values, 50), min: Math.min(...values), max: Math.max(...values) };
}

/**
 * Speed of `a` relative to `b` from timings taken round by round in the same run: the ratio is
 * computed per round (b's time / a's time, > 1 means a is faster), then the median is taken, so a
 * machine that changes speed between rounds affects both sides of each ratio alike.
 */
export function roundRatios(aTimes: readonly number[], bTimes: readonly number[]): Spread {
  if (aTimes.length !== bTimes.length || aTimes.length === 0)
    throw new RangeError('roundRatios: both need the same, non-zero number of rounds');
  return spread(aTimes.map((a, round) => bTimes[round] / a));
}
