/**
 * Sparse text embeddings: token ids and weights. Two heads (spec.sparseHead): SPLADE over MLM
 * logits `[batch, seq, vocab]`, and BGE-M3's `sparse_linear` over token hidden states
 * `[batch, seq, hidden]`. Serves `{"messages": [...]}` and embeds the worker's text chunks.
 */
import { checkOutputShape } from '../engines/session/contract.ts';
import type { OutputTensor } from '../engines/session/types.ts';
import { openTextModel, type TextModel } from '../engines/text-model.ts';
import type { BatchTensors } from '../engines/tokenizer.ts';
import { ConfigurationError } from '../errors.ts';
import { type SparseLinearHead, type SparseVector, sparseLinearRow, spladeRow } from '../math/sparse.ts';
import { readSparseLinearHead, SPARSE_LINEAR_FILE } from '../models/sparse-linear.ts';
import { textInputsOf, withTruncation } from '../request/checks.ts';
import type { SparseResponse } from '../request/schema.ts';
import { EXAMPLE, passageEmbedder, TOKENIZED_MODEL, tokenBatchLimits } from './text.ts';
import type { Engine, EngineParts, ModelKind, TextOptions, TextUsage, TokenCounter } from './types.ts';

/**
 * Padded tokens per SPLADE batch. Each token costs a vocabulary-wide row of logits (30522 floats,
 * 122 KB for BERT), so 2048 tokens hold about 250 MB of output at once.
 */
const SPARSE_BATCH_TOKENS = 2048;

/** The special tokens BGE-M3's sparse output leaves out (FlagEmbedding's `unused_tokens`). */
const BGE_M3_SKIPPED = ['cls_token', 'eos_token', 'pad_token', 'unk_token'] as const;

export interface SparseEngine extends Engine {
  readonly type: 'sparse';
  embed(texts: readonly string[], options: TextOptions): Promise<TextUsage & { vectors: SparseVector[] }>;
  readonly tokens: TokenCounter;
}

type RowReader = (output: OutputTensor, tensors: BatchTensors) => SparseVector[];

/** SPLADE: each row reduced straight from ONNX Runtime's buffer into one vocabulary-sized scratch array. */
function spladeReader(): RowReader {
  let scratch: Float32Array | undefined;
  return (output, tensors) => {
    const [rows, seq, vocab] = output.dims;
    if (!scratch || scratch.length !== vocab) scratch = new Float32Array(vocab);
    const batch: SparseVector[] = [];
    for (let row = 0; row < rows; row++) batch.push(spladeRow(output.data, { seq, vocab }, row, tensors.lengths[row], scratch));
    return batch;
  };
}

function sparseLinearReader(head: SparseLinearHead, skip: ReadonlySet<number>, modelId: string): RowReader {
  return (output, tensors) => {
    const [, seq, hidden] = output.dims;
    if (hidden !== head.weight.length) {
      throw new ConfigurationError(
        `The sparse model ${modelId} returned token vectors of ${hidden} values; its sparse head (${SPARSE_LINEAR_FILE}) has ${head.weight.length} weights.`,
      );
    }
    return tensors.tokenIds.map((ids, row) => sparseLinearRow(output.data, seq, row, ids, head, skip));
  };
}

function sparseEngine(model: TextModel, parts: EngineParts, read: RowReader): SparseEngine {
  const { spec, limits } = parts;
  const batchLimits = sparseKind.batchLimits(limits, parts.session.sessions);
  const engine: SparseEngine = {
    type: 'sparse',
    spec,
    tokens: model.tokens,
    async embed(texts, textOptions) {
      const { encodings, ...usage } = model.encodeTexts(texts, textOptions);
      const vectors = await model.runBatches(encodings, batchLimits, read);
      return { vectors, ...usage };
    },
    async handle(request, services): Promise<SparseResponse> {
      const { texts, options } = await textInputsOf(request, engine, services, EXAMPLE);
      const result = await engine.embed(texts, options);
      return withTruncation(
        {
          sparse_embeddings: result.vectors,
          model_type: 'sparse' as const,
          model_id: spec.id,
          count: result.vectors.length,
          usage: { tokens: result.tokens },
        },
        result.truncated,
      );
    },
    documentEmbedder: () =>
      passageEmbedder(model.tokens, async (texts) => {
        const result = await engine.embed(texts, { truncate: true, inputType: 'passage' });
        return result.vectors.map((sparse, index) => ({ sparse, tokens: result.counts[index] }));
      }),
    dispose: () => model.session.release(),
  };
  return engine;
}

export const sparseKind: ModelKind = {
  type: 'sparse',
  ...TOKENIZED_MODEL,
  output: { onlyOne: true, names: ['logits'] },
  request: { fields: ['messages', 's3_file', 'input_type', 'truncate'], example: EXAMPLE },
  batchLimits: (limits, sessions) =>
    tokenBatchLimits(Math.min(limits.maxBatchTokens, SPARSE_BATCH_TOKENS), sessions, limits.batchInvariant),
  sampleRequest: async () => ({
    messages: ['Serverless Vectorizer warm-up.', 'A second, slightly longer sentence to batch with the first.'],
  }),
  async open(parts) {
    const model = await openTextModel(parts);
    if (parts.spec.sparseHead === 'bge-m3') {
      checkOutputShape(model.session, model.outputName, { ranks: [3], what: 'token hidden states [batch, seq, hidden]' }, model.label);
      const hidden = model.session.shapes[model.outputName]?.[2];
      const head = readSparseLinearHead(parts.spec.dir, typeof hidden === 'number' ? hidden : undefined, parts.spec.id);
      return sparseEngine(model, parts, sparseLinearReader(head, model.tokenizer.specialIds(BGE_M3_SKIPPED), parts.spec.id));
    }
    checkOutputShape(model.session, model.outputName, { ranks: [3], what: 'MLM logits [batch, seq, vocab]' }, model.label);
    return sparseEngine(model, parts, spladeReader());
  },
};
