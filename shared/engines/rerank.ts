import { join } from 'node:path';
import { MAX_ROWS_PER_RUN, runInBatches } from './run-batches.ts';
import { createSession } from './session.ts';
import { requireOutput } from './session-io.ts';
import { usageOf } from './text.ts';
import { type Encoding, feedsFor, TextTokenizer, toBatchTensors } from './tokenizer.ts';
import type { EngineOptions, RerankEngine, TextOptions } from './types.ts';

/** Cross-encoder reranking: one `(query, document)` pair per row, the first logit as the score. */
export async function createRerankEngine(options: EngineOptions): Promise<RerankEngine> {
  const { spec, limits } = options;
  const modelPath = join(spec.dir, spec.file);
  const [tokenizer, session] = await Promise.all([
    TextTokenizer.load(spec.dir, spec.maxTokens),
    createSession(modelPath, { intraOpThreads: options.intraOpThreads }),
  ]);
  const outputName = requireOutput(session, spec.outputName, modelPath);

  async function runBatch(batch: Encoding[]): Promise<number[]> {
    const tensors = toBatchTensors(batch, tokenizer.padId);
    const outputs = await session.run(feedsFor(tensors, session.inputNames), [outputName]);
    const output = outputs[outputName];
    const data = output.data as Float32Array;
    // [batch, labels]: single-label cross-encoders have one column; take the first either way.
    const labels = output.dims.length > 1 ? output.dims[1] : 1;
    const logits = Array.from({ length: batch.length }, (_, row) => data[row * labels]);
    output.dispose();
    return logits;
  }

  return {
    type: 'rerank',
    spec,
    async score(query: string, documents: readonly string[], textOptions: TextOptions) {
      const { encodings, ...usage } = usageOf(
        documents.map((document, index) => tokenizer.encodePair(query, document, textOptions.truncate, index)),
      );
      const logits = await runInBatches(
        encodings,
        (encoding) => encoding.ids.length,
        { maxTokens: limits.maxBatchTokens, maxItems: MAX_ROWS_PER_RUN },
        runBatch,
      );
      return { logits, ...usage };
    },
    dispose: () => session.release(),
  };
}
