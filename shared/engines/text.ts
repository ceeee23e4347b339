import { join } from 'node:path';
import { clsPool, meanPool, splitRows } from '../math/pooling.ts';
import { l2NormalizeInPlace } from '../math/vector.ts';
import { MAX_ROWS_PER_RUN, runInBatches } from './run-batches.ts';
import { createSession } from './session.ts';
import { requireOutput } from './session-io.ts';
import { type Encoding, feedsFor, TextTokenizer, toBatchTensors } from './tokenizer.ts';
import type { EngineOptions, TextEngine, TextOptions, TextUsage } from './types.ts';

/** The prefix a model wants for this kind of input (e5 `query: `, nomic `search_document: `). */
export function applyPrefix(texts: readonly string[], prefix: string | undefined): readonly string[] {
  return prefix ? texts.map((text) => prefix + text) : texts;
}

/** Encodes every text (truncating or rejecting per options) and totals the usage. */
export function encodeAll(tokenizer: TextTokenizer, texts: readonly string[], truncate: boolean): { encodings: Encoding[] } & TextUsage {
  return usageOf(texts.map((text, index) => tokenizer.encode(text, truncate, index)));
}

/** Token totals of a set of encodings. */
export function usageOf(encodings: Encoding[]): { encodings: Encoding[] } & TextUsage {
  const counts = encodings.map((encoding) => encoding.ids.length);
  return {
    encodings,
    counts,
    tokens: counts.reduce((sum, count) => sum + count, 0),
    truncated: encodings.flatMap((encoding, index) => (encoding.truncated ? [index] : [])),
  };
}

/** Dense text embeddings: tokenise, run in token-budget batches, pool, normalise. */
export async function createTextEngine(options: EngineOptions): Promise<TextEngine> {
  const { spec, limits } = options;
  const modelPath = join(spec.dir, spec.file);
  const [tokenizer, session] = await Promise.all([
    TextTokenizer.load(spec.dir, spec.maxTokens),
    createSession(modelPath, { intraOpThreads: options.intraOpThreads }),
  ]);
  const outputName = requireOutput(session, spec.outputName, modelPath);

  async function runBatch(batch: Encoding[]): Promise<Float32Array[]> {
    const tensors = toBatchTensors(batch, tokenizer.padId);
    const outputs = await session.run(feedsFor(tensors, session.inputNames), [outputName]);
    const output = outputs[outputName];
    const data = output.data as Float32Array;
    const dims = output.dims;
    let vectors: Float32Array[];
    if (dims.length === 2) vectors = splitRows(data, dims[0], dims[1]);
    else {
      const hidden = { data, batch: dims[0], seq: dims[1], hidden: dims[2] };
      vectors = spec.pooling === 'cls' ? clsPool(hidden) : meanPool(hidden, tensors.lengths);
    }
    output.dispose();
    if (spec.normalize) for (const vector of vectors) l2NormalizeInPlace(vector);
    return vectors;
  }

  return {
    type: 'text',
    spec,
    async embed(texts: readonly string[], textOptions: TextOptions) {
      const prefixed = applyPrefix(texts, textOptions.inputType ? spec.prefixes[textOptions.inputType] : undefined);
      const { encodings, ...usage } = encodeAll(tokenizer, prefixed, textOptions.truncate);
      const embeddings = await runInBatches(
        encodings,
        (encoding) => encoding.ids.length,
        { maxTokens: limits.maxBatchTokens, maxItems: MAX_ROWS_PER_RUN },
        runBatch,
      );
      return { embeddings, ...usage };
    },
    tokens: {
      countContentTokens: (text: string) => tokenizer.tokenize(text).length,
      maxContentTokens: tokenizer.maxContentTokens,
    },
    dispose: () => session.release(),
  };
}
