/**
 * Pooling of token vectors into one vector per input. Pure functions over the flat, row-major
 * buffers ONNX Runtime returns, so nothing is copied into nested JS arrays.
 */

/** A `[batch, seq, hidden]` tensor as ONNX Runtime hands it back. */
export interface Hidden3D {
  readonly data: Float32Array;
  readonly batch: number;
  readonly seq: number;
  readonly hidden: number;
}

/**
 * Mean of the token vectors whose attention mask is 1.
 *
 * @param lengths real (unpadded) token count of each row; padding is always on the right.
 * @example meanPool({ data, batch: 2, seq: 5, hidden: 384 }, [5, 3])
 */
export function meanPool(hidden: Hidden3D, lengths: readonly number[]): Float32Array[] {
  const { data, batch, seq, hidden: size } = hidden;
  const pooled: Float32Array[] = [];
  for (let b = 0; b < batch; b++) {
    const out = new Float32Array(size);
    const length = lengths[b];
    const rowStart = b * seq * size;
    for (let t = 0; t < length; t++) {
      const offset = rowStart + t * size;
      for (let h = 0; h < size; h++) out[h] += data[offset + h];
    }
    const divisor = Math.max(length, 1e-9);
    for (let h = 0; h < size; h++) out[h] /= divisor;
    pooled.push(out);
  }
  return pooled;
}

/** The first token's vector (`[CLS]`) of each row. */
export function clsPool(hidden: Hidden3D): Float32Array[] {
  const { data, batch, seq, hidden: size } = hidden;
  const pooled: Float32Array[] = [];
  for (let b = 0; b < batch; b++) {
    const start = b * seq * size;
    pooled.push(data.slice(start, start + size));
  }
  return pooled;
}

/** Splits a `[batch, dim]` buffer into one vector per row (already pooled model outputs). */
export function splitRows(data: Float32Array, batch: number, dim: number): Float32Array[] {
  const rows: Float32Array[] = [];
  for (let b = 0; b < batch; b++) rows.push(data.slice(b * dim, (b + 1) * dim));
  return rows;
}
