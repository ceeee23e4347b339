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
