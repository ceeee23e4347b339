/** Small vector helpers shared by the engines and the tests. Pure. */

/** Scales `vector` in place to unit length (a zero vector stays zero). Returns it for chaining. */
export function l2NormalizeInPlace(vector: Float32Array): Float32Array {
  let sum = 0;
  for (let i = 0; i < vector.length; i++) sum += vector[i] * vector[i];
  const norm = Math.sqrt(sum);
  if (norm > 0) for (let i = 0; i < vector.length; i++) vector[i] /= norm;
  return vector;
}

/** Layer norm without weight or bias over the whole vector (PyTorch `F.layer_norm`, eps 1e-5), in place. */
export function layerNormInPlace(vector: Float32Array, epsilon = 1e-5): Float32Array {
  let mean = 0;
  for (let i = 0; i < vector.length; i++) mean += vector[i];
  mean /= vector.length || 1;
  let variance = 0;
  for (let i = 0; i < vector.length; i++) variance += (vector[i] - mean) ** 2;
  variance /= vector.length || 1;
  const scale = 1 / Math.sqrt(variance + epsilon);
  for (let i = 0; i < vector.length; i++) vector[i] = (vector[i] - mean) * scale;
  return vector;
}

/**
 * A Matryoshka model's vector of `size`: its first `size` values, after a layer norm over the
 * whole vector when the model's card takes one (nomic v1.5), renormalised when `normalize`.
 * @example shortenVector(Float32Array.of(3, 4, 12), 2, { layerNorm: false, normalize: true }) // [0.6, 0.8]
 */
export function shortenVector(vector: Float32Array, size: number, options: { layerNorm: boolean; normalize: boolean }): Float32Array {
  const whole = options.layerNorm ? layerNormInPlace(Float32Array.from(vector)) : vector;
  const short = whole.slice(0, size);
  return options.normalize ? l2NormalizeInPlace(short) : short;
}

/** Cosine similarity of two equal-length vectors. */
export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new RangeError(`cosine: lengths differ (${a.length} vs ${b.length})`);
  let dot = 0;
  let normA = 0;
  let normB = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i] * b[i];
    normA += a[i] * a[i];
    normB += b[i] * b[i];
  }
  return normA === 0 || normB === 0 ? 0 : dot / Math.sqrt(normA * normB);
}

/** The logistic function, stable for large negative inputs. */
export function sigmoid(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

/** Plain numbers for JSON (a Float32Array would serialise as an object). */
export function toNumberArray(vector: Float32Array): number[] {
  return Array.from(vector);
}
