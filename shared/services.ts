import { statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import type { Config } from './config.ts';
import { createEngine } from './engines/index.ts';
import { cpuFlags, int8ModelFor } from './engines/session/int8-kernels.ts';
import { externalDataOf } from './engines/session/model-file.js';
import { resolveSessionOptions } from './engines/session/sizing.ts';
import { createRunLog } from './engines/session/timed.ts';
import { ConfigurationError, VectorizerError } from './errors.ts';
import { openIndexSink } from './index/open.ts';
import type { IndexSink } from './index/types.ts';
import type { DocumentEmbedder, Engine } from './kinds/types.ts';
import type { DownloadProgress } from './models/download.ts';
import { resolveModel } from './models/resolve.ts';
import type { ModelSpec } from './models/types.ts';
import { lazyS3Client } from './storage/client.ts';
import { createKeyListing, type KeyListing } from './storage/key-listing.ts';
import { listObjects } from './storage/s3.ts';
import { createMessageSender, type MessageSender } from './storage/sqs.ts';
import { createTracing, type Tracing } from './tracing.ts';

/**
 * What a cold start builds once and every invocation reuses: the configuration, the resolved
 * model, its engine and the S3 client. Passed inward in slices (a request needs `config` and `s3`
 * besides the engine; the worker also `model` and `documents`).
 */
export interface Services {
  readonly config: Config;
  readonly model: ModelSpec;
  readonly engine: Engine;
  /** The worker's embedder over the engine (its batching merges the files of a batch). */
  readonly documents: DocumentEmbedder;
  readonly s3: S3Client;
  /** The vector index kept in sync with the bucket (`INDEX_SINK`); absent for `none`. */
  readonly index?: IndexSink;
  /**
   * Existence checks of the worker's per-file keys (outputs, sidecars, error records), answered by
   * one listing for the files of a batch instead of a request per key.
   */
  readonly listing?: KeyListing;
  /** The worker's own queue (`WORK_QUEUE_URL`), where parts of large documents go; absent when unset. */
  readonly queue?: MessageSender;
  /** X-Ray tracing of the handlers and of the S3 and SQS clients (off unless asked for). */
  readonly tracing: Tracing;
  /** How long the model's runs took since the last drain (the handlers' `ModelRunTime` metric). */
  readonly modelRuns: { drain(): number[] };
  dispose(): Promise<void>;
}

/** Bytes of an ONNX file and of its external weights, if any (what each session holds). */
function modelBytes(path: string): number {
  const external = externalDataOf(path);
  return statSync(path).size + (external ? statSync(external).size : 0);
}

/**
 * Resolves the model (downloading it when allowed), opens its engine and the S3 client. A model
 * that cannot load fails here, with an error naming the model, the file and the reason.
 * @param options.s3 a client to use instead of a new one (tests inject faults this way).
 * @param options.wrapIndex wraps the index sink (tests inject sink faults this way).
 */
export async function createServices(
  config: Config,
  options: { s3?: S3Client; onProgress?: (progress: DownloadProgress) => void; wrapIndex?: (sink: IndexSink) => IndexSink } = {},
): Promise<Services> {
  const started = performance.now();
  // Nothing heavy is imported before this: the session thread should start as early as possible.
  const model = await resolveModel(config.model, { onProgress: options.onProgress });
  const session = resolveSessionOptions(config.runtime, modelBytes(join(model.dir, model.file)), availableParallelism());
  const int8 = await int8ModelFor(join(model.dir, model.file), config.runtime.int8Weights, process.arch, cpuFlags());
  // Run times are kept (and runs timed at all) only where metrics are published.
  const modelRuns = createRunLog(config.metrics.enabled ? 1000 : 0);
  const onRun = config.metrics.enabled ? modelRuns.record : undefined;
  const opening = createEngine({ spec: model, limits: config.limits, session, modelPath: int8.path, onRun }).catch((cause: unknown) => {
    // ONNX Runtime's own message (a missing external-data file, a corrupt graph) is the useful part.
    if (cause instanceof VectorizerError) throw cause;
    throw new ConfigurationError(
      `The ${model.type} model ${model.id} could not be loaded from ${join(model.dir, model.file)}: ${cause instanceof Error ? cause.message : String(cause)}`,
      { cause },
    );
  });
  // Where metrics are on, Powertools Metrics (10 ms to import here) loads while the session opens;
  // the handler's recorder then finds it loaded (metrics.ts).
  if (config.metrics.enabled) import('@aws-lambda-powertools/metrics').catch(() => undefined);
  // Likewise Tracer and the X-Ray SDK, when tracing is on (awaited below; a failure surfaces there).
  const tracingReady = createTracing(config.tracing);
  tracingReady.catch(() => undefined);
  // The index opens while the model's session does, not after it.
  const [engineResult, indexResult] = await Promise.allSettled([opening, openIndexSink(config.index, config.s3, model)]);
  if (engineResult.status === 'rejected' || indexResult.status === 'rejected') {
    if (engineResult.status === 'fulfilled') await engineResult.value.dispose();
    if (indexResult.status === 'fulfilled') await indexResult.value?.close();
    throw engineResult.status === 'rejected' ? engineResult.reason : (indexResult as PromiseRejectedResult).reason;
  }
  const engine = engineResult.value;
  const tracing = await tracingReady;
  const s3 = options.s3 ?? lazyS3Client(config.s3, tracing.instrument);
  const opened = indexResult.value;
  const index = opened && options.wrapIndex ? options.wrapIndex(opened) : opened;
  // Imported here, not above: Powertools loads while the model's session opens on its thread.
  const { logger } = await import('./logger.ts');
  logger.info('model loaded', {
    model_id: model.id,
    model_type: model.type,
    model_dir: model.dir,
    model_file: model.file,
    sessions: session.sessions,
    intra_op_threads: session.intraOpThreads,
    int8_weights: int8.note,
    load_ms: Math.round(performance.now() - started),
  });
  const { workQueueUrl, sqsEndpoint } = config.pipeline;
  const queue = workQueueUrl ? createMessageSender(workQueueUrl, sqsEndpoint, config.s3, tracing.instrument) : undefined;
  return {
    config,
    model,
    engine,
    documents: engine.documentEmbedder(),
    s3,
    listing: createKeyListing((bucket, prefix, maxPages) => listObjects(s3, bucket, prefix, maxPages)),
    ...(index ? { index } : {}),
    ...(queue ? { queue } : {}),
    modelRuns,
    tracing,
    async dispose() {
      queue?.destroy();
      await Promise.all([engine.dispose(), index?.close()]);
    },
  };
}
