import { batchLimitsFor } from './batching/run.ts';
import { openTextModel, usageOf } from './text-model.ts';
import type { EngineParts, RerankEngine, TextOptions } from './types.ts';

/** Cross-encoder reranking: one `(query, document)` pair per row, the first logit as the score. */
export async function createRerankEngine(options: EngineParts): Promise<RerankEngine> {
  const { spec, limits } = options;
  const model = await openTextModel(options);
  return {
    type: 'rerank',
    spec,
    async score(query: string, documents: readonly string[], textOptions: TextOptions) {
      const { encodings, ...usage } = usageOf(
        documents.map((document, index) => model.tokenizer.encodePair(query, document, textOptions.truncate, index)),
      );
      const logits = await model.runBatches(encodings, batchLimitsFor('rerank', limits, options.session.sessions), (output, tensors) => {
        const data = output.data as Float32Array;
        // [batch, labels]: single-label cross-encoders have one column; take the first either way.
        const labels = output.dims.length > 1 ? output.dims[1] : 1;
        return tensors.lengths.map((_, row) => data[row * labels]);
      });
      return { logits, ...usage };
    },
    dispose: () => model.session.release(),
  };
}
