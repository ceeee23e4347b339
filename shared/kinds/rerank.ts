/**
 * Cross-encoder reranking: one `(query, document)` pair per row, the first logit as the score
 * (sigmoid unless `raw_scores`). Serves `{"query": ..., "documents": [...]}`; embeds no documents.
 */

import { checkOutputShape } from '../engines/session/contract.ts';
import { openTextModel, type TextModel } from '../engines/text-model.ts';
import { UnsupportedForModelError } from '../errors.ts';
import { rankByScore } from '../math/ranking.ts';
import { sigmoid } from '../math/vector.ts';
import { checkCount, withTruncation } from '../request/checks.ts';
import type { RerankResponse } from '../request/schema.ts';
import { TOKENIZED_MODEL, tokenBatchLimits } from './text.ts';
import type { Engine, EngineParts, ModelKind, TextOptions, TextUsage } from './types.ts';

const EXAMPLE = '{"query": "...", "documents": ["...", "..."]}';

export interface RerankEngine extends Engine {
  readonly type: 'rerank';
  /** Raw logits, one per document, in the documents' order. */
  score(query: string, documents: readonly string[], options: TextOptions): Promise<TextUsage & { logits: number[] }>;
}

function rerankEngine(model: TextModel, parts: EngineParts): RerankEngine {
  const { spec, limits } = parts;
  const batchLimits = rerankKind.batchLimits(limits, parts.session.sessions);
  const engine: RerankEngine = {
    type: 'rerank',
    spec,
    async score(query, documents, textOptions) {
      const { encodings, ...usage } = model.encodePairs(query, documents, textOptions);
      const logits = await model.runBatches(encodings, batchLimits, (output, tensors) => {
        // [batch, labels]: single-label cross-encoders have one column; take the first either way.
        const labels = output.dims.length > 1 ? output.dims[1] : 1;
        return tensors.lengths.map((_, row) => output.data[row * labels]);
      });
      return { logits, ...usage };
    },
    async handle(request, services): Promise<RerankResponse> {
      if (request.query === undefined || request.documents === undefined) {
        const missing = [request.query === undefined && 'query', request.documents === undefined && 'documents'].filter(Boolean);
        throw new UnsupportedForModelError(`The rerank model ${spec.id} needs ${missing.join(' and ')}: send ${EXAMPLE}.`);
      }
      const documents = request.documents;
      checkCount(documents.length, services.config.limits, 'documents');
      const result = await engine.score(request.query, documents, { truncate: request.truncate ?? true });
      const scores = request.raw_scores ? result.logits : result.logits.map(sigmoid);
      const returnDocuments = request.return_documents ?? true;
      const rankings = rankByScore(scores, request.top_k).map(({ index, score }) =>
        returnDocuments ? { index, score, document: documents[index] } : { index, score },
      );
      return withTruncation(
        { rankings, model_type: 'rerank' as const, model_id: spec.id, count: rankings.length, usage: { tokens: result.tokens } },
        result.truncated,
      );
    },
    documentEmbedder: () => ({
      reads: 'nothing',
      reason: `The rerank model ${spec.id} scores query/document pairs; it does not embed files.`,
    }),
    dispose: () => model.session.release(),
  };
  return engine;
}

export const rerankKind: ModelKind = {
  type: 'rerank',
  ...TOKENIZED_MODEL,
  // fastembed-rs reads `logits` by name (src/reranking/impl.rs); a single-output export is read too.
  output: { onlyOne: true, names: ['logits'] },
  request: { fields: ['query', 'documents', 'top_k', 'return_documents', 'raw_scores', 'truncate'], example: EXAMPLE },
  batchLimits: (limits, sessions) => tokenBatchLimits(limits.maxBatchTokens, sessions, limits.batchInvariant),
  sampleRequest: async () => ({ query: 'What is warm-up?', documents: ['Warm-up runs the model once.', 'Bananas are yellow.'] }),
  async open(parts) {
    const model = await openTextModel(parts);
    checkOutputShape(model.session, model.outputName, { ranks: [1, 2], what: 'scores [batch] or [batch, labels]' }, model.label);
    return rerankEngine(model, parts);
  },
};
