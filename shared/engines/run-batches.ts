import { type BatchLimits, planBatches } from './batching.ts';

/** Rows per model run: past this, larger batches no longer run faster, they only hold more memory. */
export const MAX_ROWS_PER_RUN = 256;

/**
 * Runs `run` over token-budget batches of items and returns the results in the items' original
 * order. Batches run one after another: ONNX Runtime already uses every core inside one run.
 */
export async function runInBatches<Item, Result>(
  items: readonly Item[],
  lengthOf: (item: Item) => number,
  limits: BatchLimits,
  run: (batch: Item[]) => Promise<Result[]>,
): Promise<Result[]> {
  const results = new Array<Result>(items.length);
  for (const indices of planBatches(items.map(lengthOf), limits)) {
    const outputs = await run(indices.map((index) => items[index]));
    indices.forEach((index, position) => {
      results[index] = outputs[position];
    });
  }
  return results;
}
