/** Ordering of rerank results. Pure. */

export interface Ranked {
  readonly index: number;
  readonly score: number;
}

/**
 * Sorts by score descending (ties keep the caller's order) and keeps the first `topK`.
 *
 * @example rankByScore([0.1, 0.9, 0.5], 2) // [{ index: 1, score: 0.9 }, { index: 2, score: 0.5 }]
 */
export function rankByScore(scores: readonly number[], topK?: number): Ranked[] {
  const ranked = scores.map((score, index) => ({ index, score }));
  ranked.sort((a, b) => b.score - a.score || a.index - b.index);
  return topK === undefined ? ranked : ranked.slice(0, topK);
}
