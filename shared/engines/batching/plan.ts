/**
 * Token-budget batching. One giant padded batch wastes most of its compute on padding and can
 * exhaust memory; instead inputs are sorted by length and cut into batches whose padded size
 * (rows x longest row) stays under a budget, choosing the cuts that minimise the estimated
 * compute (padding included). Pure.
 */

export interface BatchLimits {
  /** Padded tokens per batch (rows x longest row). A single longer input still gets its own batch. */
  readonly maxTokens: number;
  /** Rows per batch. */
  readonly maxItems: number;
}

/**
 * Fixed cost of one model run in token-equivalents (tensor setup, thread wake-up, per-call
 * overhead): it stops the planner from cutting into many tiny batches.
 */
const RUN_OVERHEAD_TOKENS = 16;
/**
 * Attention grows with the square of the length; relative to the per-token layers its share is
 * about length / (6 x hidden), i.e. length / 2304 for a 384-wide BERT.
 */
const ATTENTION_LENGTH_SCALE = 2304;

/** Estimated compute of one run, in token-equivalents (padding, attention and the run's overhead included). Pure. */
export function batchCost(rows: number, longest: number): number {
  return rows * longest * (1 + longest / ATTENTION_LENGTH_SCALE) + RUN_OVERHEAD_TOKENS;
}

/**
 * Groups input indices into batches, longest inputs first. Callers run each batch and write the
 * results back at the returned indices, which restores the caller's order.
 *
 * @example planBatches([3, 50, 4], { maxTokens: 60, maxItems: 8 }) // [[1], [2, 0]]
 */
export function planBatches(lengths: readonly number[], limits: BatchLimits): number[][] {
  const order = lengths.map((_, index) => index);
  order.sort((a, b) => lengths[b] - lengths[a] || a - b);
  const sorted = order.map((index) => Math.max(lengths[index], 1));
  const count = sorted.length;
  // best[j]: cheapest plan for the first j sorted inputs; cut[j]: where its last batch starts.
  const best = new Float64Array(count + 1).fill(Number.POSITIVE_INFINITY);
  const cut = new Int32Array(count + 1);
  best[0] = 0;
  for (let end = 1; end <= count; end++) {
    // The last batch is sorted[start..end-1]; its longest row is sorted[start].
    for (let start = end - 1; start >= 0 && end - start <= limits.maxItems; start--) {
      const rows = end - start;
      if (rows > 1 && rows * sorted[start] > limits.maxTokens) break;
      const cost = best[start] + batchCost(rows, sorted[start]);
      if (cost < best[end]) {
        best[end] = cost;
        cut[end] = start;
      }
    }
  }
  const batches: number[][] = [];
  for (let end = count; end > 0; end = cut[end]) batches.unshift(order.slice(cut[end], end));
  return batches;
}
