import { type SparseVector, spladeRow } from '../math/sparse.ts';
import { batchLimitsFor } from './batching/run.ts';
import { openTextModel } from './text-model.ts';
import type { EngineParts, SparseEngine, TextOptions } from './types.ts';

/**
 * SPLADE sparse embeddings. The `[batch, seq, vocab]` logits are reduced row by row straight from
 * ONNX Runtime's buffer into one vocabulary-sized scratch array; nothing else is copied.
 */
export async function createSparseEngine(options: EngineParts): Promise<SparseEngine> {
  const { spec, limits } = options;
  const model = await openTextModel(options);
  let scratch: Float32Array | undefined;
  return {
    type: 'sparse',
    spec,
    async embed(texts: readonly string[], textOptions: TextOptions) {
      const { encodings, ...usage } = model.encodeTexts(texts, textOptions);
      const vectors = await model.runBatches(encodings, batchLimitsFor('sparse', limits, options.session.sessions), (output, tensors) => {
        const [rows, seq, vocab] = output.dims;
        if (!scratch || scratch.length !== vocab) scratch = new Float32Array(vocab);
        const logits = output.data as Float32Array;
        const batch: SparseVector[] = [];
        for (let row = 0; row < rows; row++) batch.push(spladeRow(logits, { seq, vocab }, row, tensors.lengths[row], scratch));
        return batch;
      });
      return { vectors, ...usage };
    },
    tokens: model.tokens,
    dispose: () => model.session.release(),
  };
}
