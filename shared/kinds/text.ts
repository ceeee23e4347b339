/**
 * Dense text embeddings: tokenise, run in token-budget batches, pool, normalise. Serves
 * `{"messages": [...]}` / `{"s3_file": ...}` and embeds the worker's text chunks.
 */
import { coalesce } from '../engines/batching/coalesce.ts';
import type { BatchLimits } from '../engines/batching/plan.ts';
import { checkOutputShape } from '../engines/session/contract.ts';
import type { OutputTensor } from '../engines/session/types.ts';
import { openTextModel, type TextModel } from '../engines/text-model.ts';
import type { BatchTensors } from '../engines/tokenizer.ts';
import { InternalError } from '../errors.ts';
import { clsPool, meanPool, splitRows } from '../math/pooling.ts';
import { l2NormalizeInPlace, shortenVector, toNumberArray } from '../math/vector.ts';
import type { ModelSpec } from '../models/types.ts';
import { requestedDimensions, requireExactlyOne, textInputsOf, withTruncation } from '../request/checks.ts';
import type { DenseResponse, SearchResponse } from '../request/schema.ts';
import type { DocumentEmbedder, Embedded, Engine, EngineParts, ModelKind, TextOptions, TextUsage, TokenCounter } from './types.ts';

/** Rows per model run: past this, larger batches no longer run faster, they only hold more memory. */
export const MAX_ROWS_PER_RUN = 256;

/** The files a tokenizer-based model needs beside its ONNX file; shared by the text kinds. */
export const TOKENIZER_FILES = ['config.json', 'tokenizer.json', 'tokenizer_config.json'] as const;
export const TOKENIZER_OPTIONAL_FILES = ['special_tokens_map.json', '1_Pooling/config.json'] as const;

/** Token inputs: `token_type_ids` only when the export has it (XLM-R, ModernBERT, jina exports do not). */
export const TOKEN_INPUTS = [
  { name: 'input_ids', when: 'always' },
  { name: 'attention_mask', when: 'always' },
  { name: 'token_type_ids', when: 'if-present' },
] as const;

export const EXAMPLE = '{"messages": ["Hello world"]} or {"s3_file": "bucket/key"}';
const TEXT_EXAMPLE = `${EXAMPLE} or {"search": {"query": "...", "top_k": 10}}`;

/** What every tokenizer-based kind (text, sparse, rerank) needs of a model folder and feeds its graph. */
export const TOKENIZED_MODEL = {
  requiredFiles: TOKENIZER_FILES,
  optionalFiles: TOKENIZER_OPTIONAL_FILES,
  inputs: TOKEN_INPUTS,
} as const;

/**
 * The worker's embedder of a text-input kind: chunks go in as passages (the model's passage
 * prefix), and concurrent files share token-budget batches.
 */
export function passageEmbedder(tokens: TokenCounter, embed: (texts: string[]) => Promise<Embedded[]>): DocumentEmbedder {
  return { reads: 'texts', tokens, embed: coalesce(embed) };
}

/** Padded tokens in flight share MAX_BATCH_TOKENS; rows per run are capped (at one with BATCH_INVARIANT). */
export function tokenBatchLimits(budget: number, sessions: number, invariant = false): BatchLimits {
  return { maxTokens: Math.max(1, Math.floor(budget / sessions)), maxItems: invariant ? 1 : MAX_ROWS_PER_RUN };
}

export interface TextEngine extends Engine {
  readonly type: 'text';
  embed(texts: readonly string[], options: TextOptions): Promise<TextUsage & { embeddings: Float32Array[] }>;
  readonly tokens: TokenCounter;
}

/**
 * One vector per row of a batch's output: a `[batch, dim]` output is already pooled
 * (`sentence_embedding`, `text_embeds`); `[batch, seq, dim]` is pooled as the model says.
 */
function pooledRows(output: OutputTensor, tensors: BatchTensors, spec: ModelSpec): Float32Array[] {
  const { data, dims } = output;
  if (dims.length === 2) return splitRows(data, dims[0], dims[1]);
  if (dims.length !== 3)
    throw new InternalError(`The model ${spec.id} returned an output of shape [${dims.join(', ')}]: expected 2 or 3 dimensions.`);
  const hidden = { data, batch: dims[0], seq: dims[1], hidden: dims[2] };
  return spec.pooling === 'cls' ? clsPool(hidden) : meanPool(hidden, tensors.lengths);
}

/** The text engine over an opened text model (also the shape tests and the benchmark use). */
export function textEngine(model: TextModel, parts: EngineParts): TextEngine {
  const { spec, limits } = parts;
  const batchLimits = textKind.batchLimits(limits, parts.session.sessions);
  const engine: TextEngine = {
    type: 'text',
    spec,
    tokens: model.tokens,
    async embed(texts, textOptions) {
      const { encodings, ...usage } = model.encodeTexts(texts, textOptions);
      const embeddings = await model.runBatches(encodings, batchLimits, (output, tensors) => {
        const vectors = pooledRows(output, tensors, spec);
        if (spec.normalize && textOptions.normalize !== false) for (const vector of vectors) l2NormalizeInPlace(vector);
        return vectors;
      });
      return { embeddings, ...usage };
    },
    async handle(request, services): Promise<DenseResponse | SearchResponse> {
      if (request.search) {
        requireExactlyOne(request, ['messages', 's3_file', 'search'], engine, TEXT_EXAMPLE);
        return (await import('../index/search.ts')).searchIndex(engine, services.index, request.search);
      }
      const size = requestedDimensions(request, spec);
      const { texts, options } = await textInputsOf(request, engine, services, EXAMPLE);
      const result = await engine.embed(texts, options);
      const shorten = { layerNorm: spec.matryoshka?.layerNorm ?? false, normalize: options.normalize !== false };
      const vectors = size === undefined ? result.embeddings : result.embeddings.map((vector) => shortenVector(vector, size, shorten));
      return withTruncation(
        {
          embeddings: vectors.map(toNumberArray),
          dimension: vectors[0]?.length ?? size ?? spec.dimension ?? 0,
          model_type: 'text' as const,
          model_id: spec.id,
          count: result.embeddings.length,
          usage: { tokens: result.tokens },
        },
        result.truncated,
      );
    },
    documentEmbedder: () =>
      // Chunks already fit the model; truncation is only a guard against tokenizer edge cases.
      passageEmbedder(model.tokens, async (texts) => {
        const result = await engine.embed(texts, { truncate: true, inputType: 'passage' });
        return result.embeddings.map((vector, index) => ({ vector: toNumberArray(vector), tokens: result.counts[index] }));
      }),
    dispose: () => model.session.release(),
  };
  return engine;
}

export const textKind: ModelKind = {
  type: 'text',
  ...TOKENIZED_MODEL,
  // fastembed-rs (src/text_embedding/output.rs): the only output, then these names in this order.
  output: { onlyOne: true, names: ['text_embeds', 'last_hidden_state', 'sentence_embedding'] },
  request: { fields: ['messages', 's3_file', 'input_type', 'truncate', 'dimensions', 'normalize', 'search'], example: TEXT_EXAMPLE },
  batchLimits: (limits, sessions) => tokenBatchLimits(limits.maxBatchTokens, sessions, limits.batchInvariant),
  sampleRequest: async () => ({
    messages: ['Serverless Vectorizer warm-up.', 'A second, slightly longer sentence to batch with the first.'],
  }),
  async open(parts) {
    const model = await openTextModel(parts);
    checkOutputShape(
      model.session,
      model.outputName,
      { ranks: [2, 3], size: parts.spec.dimension, what: '[batch, dim] or [batch, seq, dim]' },
      model.label,
    );
    return textEngine(model, parts);
  },
};
