import type { Limits } from '../../config.ts';
import type { ModelType } from '../../models/types.ts';
import type { RunHint } from '../session/types.ts';
import { type BatchLimits, batchCost, planBatches } from './plan.ts';

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
 * How much faster one session with every core (2 threads) ran MiniLM batches than one
 * single-threaded session of the pool: two such sessions side by side ran 200 mixed texts 1.32x
 * faster than the wide one, so the wide one is 2 / 1.32 = 1.5x one of them. Long inputs gain more
 * from every core (their attention is a larger, better divided share of the run): requests of 8
 * texts with 512-token ones ran 1.2-1.3x faster wide than the model at 1.5 predicted. With the
 * gain rising to 2 at 512 tokens, taken per batch (preferWide), the p50 of 8-text requests fell
 * from 80 to 72 ms (int8 MiniLM) and from 118 to about 100 ms (fp32), 3 interleaved rounds of 20
 * requests each (BENCHMARKS.md, "Small requests").
 */
const WIDE_SPEEDUP = 1.5;
const WIDE_SPEEDUP_LONG = 2;
const LONG_FROM = 128;
const LONG_AT = 512;

/**
 * The wide session's speed over one pool session on a batch whose longest input has `longest`
 * tokens: 1.5 up to 128 tokens, rising linearly to 2 at 512. Pure.
 * @example wideSpeedup(64) // 1.5
 * @example wideSpeedup(512) // 2
 */
export function wideSpeedup(longest: number): number {
  const share = Math.min(1, Math.max(0, (longest - LONG_FROM) / (LONG_AT - LONG_FROM)));
  return WIDE_SPEEDUP + (WIDE_SPEEDUP_LONG - WIDE_SPEEDUP) * share;
}

/** Longest-first finishing time of batch costs on `lanes` equal sessions. Pure. */
function makespan(costs: readonly number[], lanes: number): number {
  const loads = new Array<number>(lanes).fill(0);
  for (const cost of [...costs].sort((a, b) => b - a)) {
    let least = 0;
    for (let lane = 1; lane < lanes; lane++) if (loads[lane] < loads[least]) least = lane;
    loads[least] += cost;
  }
  return Math.max(...loads);
}

/**
 * Whether a plan finishes sooner on one session with every core than spread over `lanes`
 * single-threaded ones: a single input, or one long input beside short ones, leaves the other
 * sessions idle while one works through it. Pure.
 * @example preferWide([[0]], [300], 2) // true: one text cannot be split
 * @example preferWide([[0, 1], [2, 3]], [40, 40, 40, 40], 2) // false: two equal halves
 */
export function preferWide(plan: readonly (readonly number[])[], lengths: readonly number[], lanes: number): boolean {
  if (lanes < 2 || plan.length === 0) return false;
  const longest = plan.map((batch) => Math.max(1, ...batch.map((index) => lengths[index])));
  const costs = plan.map((batch, at) => batchCost(batch.length, longest[at]));
  // Each batch at the wide session's gain for its own length: a large request of mostly short texts stays on the pool.
  const wide = costs.reduce((sum, cost, at) => sum + cost / wideSpeedup(longest[at]), 0);
  return wide < makespan(costs, lanes);
}

/** Where a request's runs go: how many at once, and whether they ask for the wide session. */
export interface Placement {
  /** Runs a pool takes at once (its sessions). */
  readonly parallelism: number;
  /** A pool's wide session is open (Session.wideReady). */
  readonly wideReady?: boolean;
}

/**
 * Runs items in token-budget batches and returns the results in the items' original order.
 * `parallelism` runs go at once (the sessions of a pool; ONNX Runtime already uses every thread
 * of a session inside one run), longest batches first. Each lane prepares its next batch during
 * its current run: with the session on its own thread, image decoding and tensor building overlap
 * the model instead of adding to it. At most two batches' inputs per lane exist at once. After a
 * failed run no new batch starts, and the first failure is thrown. A request that one session
 * with every core finishes sooner (preferWide) runs its batches one after another with the hint
 * `wide` when the pool's wide session is open; until it is, spread over the pool with the hint
 * (which opens it).
 */
export async function runInBatches<Item, Prepared, Result>(
  items: readonly Item[],
  lengthOf: (item: Item) => number,
  limits: BatchLimits,
  stages: BatchStages<Item, Prepared, Result>,
  placement: Placement = { parallelism: 1 },
): Promise<Result[]> {
  const results = new Array<Result>(items.length);
  const lengths = items.map(lengthOf);
  const planned = planBatches(lengths, limits);
  const spread = spreadOver(planned, placement.parallelism);
  const wide = preferWide(spread, lengths, placement.parallelism);
  const alone = wide && placement.wideReady === true;
  const plan = alone ? planned : spread;
  const parallelism = alone ? 1 : placement.parallelism;
  const hint: RunHint = { wide };
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
