import { join } from 'node:path';
import { type SparseVector, spladeRow } from '../math/sparse.ts';
import { MAX_ROWS_PER_RUN, runInBatches } from './run-batches.ts';
import { createSession } from './session.ts';
import { requireOutput } from './session-io.ts';
import { applyPrefix, encodeAll } from './text.ts';
import { type Encoding, feedsFor, TextTokenizer, toBatchTensors } from './tokenizer.ts';
import type { EngineOptions, SparseEngine, TextOptions } from './types.ts';

/**
 * Padded tokens per sparse batch. Each token costs a vocabulary-wide row of logits (30522 floats,
 * 122 KB for BERT), so 2048 tokens hold about 250 MB of output at once.
 */
const SPARSE_BATCH_TOKENS = 2048;

/**
 * SPLADE sparse embeddings. The `[batch, seq, vocab]` logits are reduced row by row straight from
 * ONNX Runtime's buffer; the batch budget is divided so the logits of one batch stay small.
 */
export async function createSparseEngine(options: EngineOptions): Promise<SparseEngine> {
  const { spec, limits } = options;
  const modelPath = join(spec.dir, spec.file);
  const [tokenizer, session] = await Promise.all([
    TextTokenizer.load(spec.dir, spec.maxTokens),
    createSession(modelPath, { intraOpThreads: options.intraOpThreads }),
  ]);
  const outputName = requireOutput(session, spec.outputName, modelPath);
  let scratch: Float32Array | undefined;

  async function runBatch(batch: Encoding[]): Promise<SparseVector[]> {
    const tensors = toBatchTensors(batch, tokenizer.padId);
    const outputs = await session.run(feedsFor(tensors, session.inputNames), [outputName]);
    const output = outputs[outputName];
    const [rows, seq, vocab] = output.dims;
    if (!scratch || scratch.length !== vocab) scratch = new Float32Array(vocab);
    const logits = output.data as Float32Array;
    const vectors: SparseVector[] = [];
    for (let row = 0; row < rows; row++) vectors.push(spladeRow(logits, { seq, vocab }, row, tensors.lengths[row], scratch));
    output.dispose();
    return vectors;
  }

  return {
    type: 'sparse',
    spec,
    async embed(texts: readonly string[], textOptions: TextOptions) {
      const prefixed = applyPrefix(texts, textOptions.inputType ? spec.prefixes[textOptions.inputType] : undefined);
      const { encodings, ...usage } = encodeAll(tokenizer, prefixed, textOptions.truncate);
      const vectors = await runInBatches(
        encodings,
        (encoding) => encoding.ids.length,
        { maxTokens: Math.min(limits.maxBatchTokens, SPARSE_BATCH_TOKENS), maxItems: MAX_ROWS_PER_RUN },
        runBatch,
      );
      return { vectors, ...usage };
    },
    tokens: {
      countContentTokens: (text: string) => tokenizer.tokenize(text).length,
      maxContentTokens: tokenizer.maxContentTokens,
    },
    dispose: () => session.release(),
  };
}
