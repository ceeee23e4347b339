/**
 * The end-to-end pipeline of the benchmark: files/s from upload to `.vectors.json` on the local
 * stack (emulator, notification bridge, event source mapping, worker), beside the engine alone on
 * the same chunks, rounds interleaved.
 */
import { ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { TextEngine } from '../engines/types.ts';
import type { Resources } from '../local/resources.ts';
import { startLocalStack } from '../local/stack.ts';
import { chunkText } from '../pipeline/chunking.ts';
import { builtInCorpus } from './corpus.ts';
import { roundRatios, type Spread, spread } from './stats.ts';

export interface PipelineScenarioResult {
  readonly scenario: string;
  readonly files: number;
  readonly chunks: number;
  readonly filesPerSecond: Spread;
  readonly engineChunksPerSecond: Spread;
  /** Pipeline speed over the engine alone, in chunks per second, per round. */
  readonly vsEngine: Spread;
}

async function countOutputs(s3: S3Client, bucket: string, prefix: string): Promise<number> {
  let count = 0;
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
    count += (page.Contents ?? []).filter((object) => object.Key?.endsWith('.vectors.json')).length;
    token = page.NextContinuationToken;
  } while (token);
  return count;
}

/** Runs the small-files and long-documents scenarios on a dense text model folder. */
export async function runPipelineBench(options: {
  modelDir: string;
  modelFile: string;
  threads: number;
  rounds: number;
  smallFiles: number;
  longFiles: number;
  progress: (line: string) => void;
}): Promise<PipelineScenarioResult[]> {
  const resources: Resources = {
    buckets: ['bench-input'],
    queues: [
      { name: 'bench-jobs-dlq' },
      { name: 'bench-jobs', visibilityTimeoutSeconds: 300, deadLetterQueue: 'bench-jobs-dlq', maxReceiveCount: 3 },
    ],
    notifications: [{ bucket: 'bench-input', queue: 'bench-jobs', prefix: '', suffixes: ['.txt'] }],
    // A Lambda event source can fill batches of up to 10,000 records; 100 lets the worker share batches widely.
    worker: { queue: 'bench-jobs', batchSize: 100, maximumBatchingWindowSeconds: 0.5 },
  };
  const stack = await startLocalStack({
    env: {
      POWERTOOLS_LOG_LEVEL: 'ERROR',
      MODEL_ID: 'bench/text',
      MODEL_DIR: options.modelDir,
      MODEL_FILE: options.modelFile,
      MODEL_TYPE: 'text',
      ORT_INTRA_OP_THREADS: String(options.threads),
    },
    resources,
    awsPort: 0,
    invokePort: 0,
    pollWaitSeconds: 1,
  });
  const engine = stack.runtime.engine as TextEngine;
  // Outputs are counted as the emulator stores them (its upload spy), not by listing the bucket,
  // whose repeated listings would cost the pipeline CPU it is being measured on.
  const written = new Map<string, number>();
  stack.uploads?.onUpload((_bucket, key) => {
    if (!key.endsWith('.vectors.json')) return;
    const prefix = key.slice(0, key.indexOf('/') + 1);
    written.set(prefix, (written.get(prefix) ?? 0) + 1);
  });
  const outputsUnder = async (prefix: string) => (stack.uploads ? (written.get(prefix) ?? 0) : countOutputs(s3, 'bench-input', prefix));
  const s3 = stack.runtime.s3;
  const corpus = builtInCorpus(options.smallFiles + options.longFiles * 40, 7);
  const scenarios = [
    { scenario: 'small files (one text each)', texts: corpus.filter((text) => text.split(' ').length < 40).slice(0, options.smallFiles) },
    // Long documents: several corpus documents joined, a few thousand words each.
    {
      scenario: 'long documents (chunked)',
      texts: Array.from({ length: options.longFiles }, (_, index) =>
        corpus
          .filter((text) => text.split(' ').length > 400)
          .slice(index * 3, index * 3 + 3)
          .join('\n\n'),
      ),
    },
  ];
  const results: PipelineScenarioResult[] = [];
  try {
    for (const { scenario, texts } of scenarios) {
      const chunks = texts.flatMap((text) =>
        chunkText(text, (piece) => engine.tokens.countContentTokens(piece), {
          maxTokens: engine.tokens.maxContentTokens,
          overlapTokens: stack.runtime.config.pipeline.chunkOverlapTokens,
        }).map((chunk) => text.slice(chunk.start, chunk.end)),
      );
      await engine.embed(chunks, { truncate: true, inputType: 'passage' }); // warm-up
      const pipelineMs: number[] = [];
      const engineMs: number[] = [];
      for (let round = 0; round < options.rounds; round++) {
        options.progress(`pipeline ${scenario}: round ${round + 1}/${options.rounds}`);
        const prefix = `${scenario.split(' ')[0]}-${round}/`;
        const started = performance.now();
        await Promise.all(
          texts.map((text, index) =>
            s3.send(new PutObjectCommand({ Bucket: 'bench-input', Key: `${prefix}file-${index}.txt`, Body: text })),
          ),
        );
        while ((await outputsUnder(prefix)) < texts.length) await new Promise((resolve) => setTimeout(resolve, 10));
        pipelineMs.push(performance.now() - started);
        const engineStarted = performance.now();
        await engine.embed(chunks, { truncate: true, inputType: 'passage' });
        engineMs.push(performance.now() - engineStarted);
      }
      results.push({
        scenario,
        files: texts.length,
        chunks: chunks.length,
        filesPerSecond: spread(pipelineMs.map((ms) => (texts.length * 1000) / ms)),
        engineChunksPerSecond: spread(engineMs.map((ms) => (chunks.length * 1000) / ms)),
        vsEngine: roundRatios(pipelineMs, engineMs),
      });
    }
  } finally {
    await stack.stop();
  }
  return results;
}

export function pipelineTable(results: readonly PipelineScenarioResult[]): string {
  const f = (value: Spread) => `${value.median.toFixed(1)} (${value.min.toFixed(1)}-${value.max.toFixed(1)})`;
  return [
    '**pipeline** — upload to `.vectors.json` on the local stack (worker batch 100, window 0.5 s) vs the engine alone on the same chunks',
    '',
    '| scenario | files | chunks | pipeline files/s | engine alone chunks/s | pipeline / engine (chunks/s) |',
    '|---|---|---|---|---|---|',
    ...results.map(
      (r) =>
        `| ${r.scenario} | ${r.files} | ${r.chunks} | ${f(r.filesPerSecond)} | ${f(r.engineChunksPerSecond)} | ${r.vsEngine.median.toFixed(2)}x |`,
    ),
  ].join('\n');
}
