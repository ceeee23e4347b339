import type { Limits } from '../../config.ts';
import type { ModelType } from '../../models/types.ts';
import type { RunHint } from '../session/types.ts';
import { type BatchLimits, planBatches } from './plan.ts';

/** Rows per model run: past this, larger batches no longer run faster, they only hold more memory. */
export const MAX_ROWS_PER_RUN = 256;

/**
 * Padded tokens per sparse batch. Each token costs a vocabulary-wide row of logits (30522 floats,
 * 122 KB for BERT), so 2048 tokens hold about 250 MB of output at once.
 */
const SPARSE_BATCH_TOKENS = 2048;

/**
 * The batch limits an engine of this type plans its model runs with (the benchmark's floor runs
 * the same batches). Images count one "token" each. The budget is what is in flight at once:
 * with several sessions running side by side, each run gets its share, so a pool holds no more
 * activations than one session (and its smaller batches ran no slower).
 */
export function batchLimitsFor(type: ModelType, limits: Pick<Limits, 'maxBatchTokens' | 'maxBatchImages'>, sessions = 1): BatchLimits {
  const share = (budget: number) => Math.max(1, Math.floor(budget / sessions));
  if (type === 'image') return { maxTokens: share(limits.maxBatchImages), maxItems: share(limits.maxBatchImages) };
  const budget = type === 'sparse' ? Math.min(limits.maxBatchTokens, SPARSE_BATCH_TOKENS) : limits.maxBatchTokens;
  return { maxTokens: share(budget), maxItems: MAX_ROWS_PER_RUN };
}

/**
 * The two stages of one batch: building its inputs (tensors, decoded pixels), then the model run
 * (with the hint a session pool places it by).
 */
export interface BatchStages<Item, Prepared, Result> {
  prepare(batch: Item[]): Prepared | Promise<Prepared>;
  run(prepared: Prepared, hint: RunHint): Promise<Result[]>;
}

/**
 * Splits the largest batches in two until there are at least `parallelism` of them (where a batch
 * has two rows or more), so a request of one batch still uses every session of a pool. Pure.
 * @example spreadOver([[0, 1, 2, 3]], 2) // [[0, 1], [2, 3]]
 */
export function spreadOver(plan: number[][], parallelism: number): number[][] {
  const batches = [...plan];
  while (batches.length < parallelism) {
    let largest = 0;
    for (let index = 1; index < batches.length; index++) if (batches[index].length > batches[largest].length) largest = index;
    const batch = batches[largest];
    if (!batch || batch.length < 2) break;
    const half = Math.ceil(batch.length / 2);
    batches.splice(largest, 1, batch.slice(0, half), batch.slice(half));
  }
  return batches;
}

/**
 * Runs items in token-budget batches and returns the results in the items' original order.
 * `parallelism` runs go at once (the sessions of a pool; ONNX Runtime already uses every thread
 * of a session inside one run), longest batches first. Each lane prepares its next batch during
 * its current run: with the session on its own thread, image decoding and tensor building overlap
 * the model instead of adding to it. At most two batches' inputs per lane exist at once. After a
 * failed run no new batch starts, and the first failure is thrown. A plan of one batch (one input,
 * which no pool can split) is run with the hint `whole`: a pool gives it every core.
 */
export async function runInBatches<Item, Prepared, Result>(
  items: readonly Item[],
  lengthOf: (item: Item) => number,
  limits: BatchLimits,
  stages: BatchStages<Item, Prepared, Result>,
  parallelism = 1,
): Promise<Result[]> {
  const results = new Array<Result>(items.length);
  const plan = spreadOver(planBatches(items.map(lengthOf), limits), parallelism);
  const hint: RunHint = { whole: plan.length === 1 };
  let cursor = 0;
  let failed = false;
  const take = () => {
    if (failed || cursor >= plan.length) return undefined;
    const indices = plan[cursor++];
    const prepared = Promise.resolve().then(() => stages.prepare(indices.map((index) => items[index])));
    prepared.catch(() => undefined); // observed when awaited; not unhandled if a run fails first
    return { indices, prepared };
  };
  async function lane(): Promise<void> {
    let current = take();
    try {
      while (current) {
        const prepared = await current.prepared;
        const following = take();
        const outputs = await stages.run(prepared, hint);
        for (const [row, index] of current.indices.entries()) results[index] = outputs[row];
        current = following;
      }
    } catch (error) {
      failed = true;
      throw error;
    }
  }
  await Promise.all(Array.from({ length: Math.max(1, Math.min(parallelism, plan.length)) }, lane));
  return results;
}
