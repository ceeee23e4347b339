import { clsPool, meanPool, splitRows } from '../math/pooling.ts';
import { l2NormalizeInPlace } from '../math/vector.ts';
import { batchLimitsFor } from './batching/run.ts';
import { openTextModel } from './text-model.ts';
import type { EngineParts, TextEngine, TextOptions } from './types.ts';

/** Dense text embeddings: tokenise, run in token-budget batches, pool, normalise. */
export async function createTextEngine(options: EngineParts): Promise<TextEngine> {
  const { spec, limits } = options;
  const model = await openTextModel(options);
  return {
    type: 'text',
    spec,
    async embed(texts: readonly string[], textOptions: TextOptions) {
      const { encodings, ...usage } = model.encodeTexts(texts, textOptions);
      const embeddings = await model.runBatches(encodings, batchLimitsFor('text', limits, options.session.sessions), (output, tensors) => {
        const data = output.data as Float32Array;
        const dims = output.dims;
        // A [batch, dim] output is already pooled (e.g. `sentence_embedding`).
        const vectors =
          dims.length === 2
            ? splitRows(data, dims[0], dims[1])
            : spec.pooling === 'cls'
              ? clsPool({ data, batch: dims[0], seq: dims[1], hidden: dims[2] })
              : meanPool({ data, batch: dims[0], seq: dims[1], hidden: dims[2] }, tensors.lengths);
        if (spec.normalize) for (const vector of vectors) l2NormalizeInPlace(vector);
        return vectors;
      });
      return { embeddings, ...usage };
    },
    tokens: model.tokens,
    dispose: () => model.session.release(),
  };
}
