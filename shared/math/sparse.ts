/** SPLADE weighting and sparse-vector helpers. Pure. */

export interface SparseVector {
  /** Vocabulary ids, ascending. */
  readonly indices: number[];
  readonly values: number[];
}

/**
 * SPLADE pooling of one row of MLM logits: `max over real tokens of log(1 + relu(logit))`.
 * Reads the row straight out of the flat `[batch, seq, vocab]` buffer; only a vocab-sized
 * accumulator is allocated, so the logits are never copied.
 *
 * @param row index of the row in the batch; `length` its unpadded token count.
 */
export function spladeRow(
  logits: Float32Array,
  dims: { seq: number; vocab: number },
  row: number,
  length: number,
  scratch: Float32Array = new Float32Array(dims.vocab),
): SparseVector {
  const { seq, vocab } = dims;
  // log1p is monotonic, so take the max of the raw logits first and transform once per entry.
  scratch.fill(0);
  const rowStart = row * seq * vocab;
  for (let t = 0; t < length; t++) {
    const offset = rowStart + t * vocab;
    for (let v = 0; v < vocab; v++) {
      const logit = logits[offset + v];
      if (logit > scratch[v]) scratch[v] = logit;
    }
  }
  const indices: number[] = [];
  const values: number[] = [];
  for (let v = 0; v < vocab; v++) {
    if (scratch[v] > 0) {
      indices.push(v);
      values.push(Math.log1p(scratch[v]));
    }
  }
  return { indices, values };
}

/** BGE-M3's `sparse_linear` head: one weight per hidden unit and a bias (a torch Linear(hidden, 1)). */
export interface SparseLinearHead {
  readonly weight: Float32Array;
  readonly bias: number;
}

/**
 * BGE-M3 sparse weights of one row of token hidden states `[batch, seq, hidden]`: for each real
 * token that is not a special token, weight = ReLU(h·w + b); a token id keeps the largest weight
 * over its positions; zero weights are dropped. As FlagEmbedding's BGEM3 sparse output and
 * fastembed-rs's `post_process_bgem3` compute it (no normalisation).
 *
 * @param ids the row's unpadded token ids; `skip` the special ids (CLS, EOS, PAD, UNK).
 * @example sparseLinearRow(Float32Array.from([1, 0, 2, 0]), 2, 0, [5, 7], { weight: Float32Array.from([1, 0]), bias: 0 }, new Set()) // { indices: [5, 7], values: [1, 2] }
 */
export function sparseLinearRow(
  hidden: Float32Array,
  seq: number,
  row: number,
  ids: readonly number[],
  head: SparseLinearHead,
  skip: ReadonlySet<number>,
): SparseVector {
  const size = head.weight.length;
  const best = new Map<number, number>();
  const rowStart = row * seq * size;
  for (let t = 0; t < ids.length; t++) {
    const id = ids[t];
    if (skip.has(id)) continue;
    const offset = rowStart + t * size;
    let sum = head.bias;
    for (let h = 0; h < size; h++) sum += hidden[offset + h] * head.weight[h];
    if (sum > (best.get(id) ?? 0)) best.set(id, sum);
  }
  const indices = [...best.keys()].sort((a, b) => a - b);
  return { indices, values: indices.map((id) => best.get(id) as number) };
}
