import type { Limits } from '../config.ts';
import type { ModelType } from '../models/types.ts';
import { type BatchLimits, planBatches } from './batching.ts';

/** Rows per model run: past this, larger batches no longer run faster, they only hold more memory. */
export const MAX_ROWS_PER_RUN = 256;

/**
 * Padded tokens per sparse batch. Each token costs a vocabulary-wide row of logits (30522 floats,
 * 122 KB for BERT), so 2048 tokens hold about 250 MB of output at once.
 */
const SPARSE_BATCH_TOKENS = 2048;

/**
 * The batch limits an engine of this type plans its model runs with (the benchmark's floor runs
 * the same batches). Images count one "token" each.
 */
export function batchLimitsFor(type: ModelType, limits: Pick<Limits, 'maxBatchTokens' | 'maxBatchImages'>): BatchLimits {
  if (type === 'image') return { maxTokens: limits.maxBatchImages, maxItems: limits.maxBatchImages };
  const maxTokens = type === 'sparse' ? Math.min(limits.maxBatchTokens, SPARSE_BATCH_TOKENS) : limits.maxBatchTokens;
  return { maxTokens, maxItems: MAX_ROWS_PER_RUN };
}

/** The two stages of one batch: building its inputs (tensors, decoded pixels), then the model run. */
export interface BatchStages<Item, Prepared, Result> {
  prepare(batch: Item[]): Prepared | Promise<Prepared>;
  run(prepared: Prepared): Promise<Result[]>;
}

/**
 * Runs items in token-budget batches and returns the results in the items' original order.
 * Model runs go one after another (ONNX Runtime already uses every core inside one run), while
 * the next batch is prepared during the current run: with the session on its own thread, image
 * decoding and tensor building overlap the model instead of adding to it. At most two batches'
 * inputs exist at once.
 */
export async function runInBatches<Item, Prepared, Result>(
  items: readonly Item[],
  lengthOf: (item: Item) => number,
  limits: BatchLimits,
  stages: BatchStages<Item, Prepared, Result>,
): Promise<Result[]> {
  const results = new Array<Result>(items.length);
  const plan = planBatches(items.map(lengthOf), limits);
  const prepare = (indices: readonly number[]) => {
    const prepared = Promise.resolve().then(() => stages.prepare(indices.map((index) => items[index])));
    prepared.catch(() => undefined); // observed when awaited; not unhandled if a run fails first
    return prepared;
  };
  let next = plan.length > 0 ? prepare(plan[0]) : undefined;
  for (const [position, indices] of plan.entries()) {
    const prepared = await (next as Promise<Prepared>);
    next = position + 1 < plan.length ? prepare(plan[position + 1]) : undefined;
    const outputs = await stages.run(prepared);
    indices.forEach((index, row) => {
      results[index] = outputs[row];
    });
  }
  return results;
}
