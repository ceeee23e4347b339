import { statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import type { Config } from './config.ts';
import { createEngine } from './engines/index.ts';
import { externalDataOf } from './engines/session/model-file.js';
import { resolveSessionOptions } from './engines/session/sizing.ts';
import type { Engine } from './engines/types.ts';
import { ConfigurationError, VectorizerError } from './errors.ts';
import type { DownloadProgress } from './models/download.ts';
import { type ModelSpec, resolveModel } from './models/resolve.ts';
import type { HandlerContext } from './request/handle.ts';
import { lazyS3Client } from './storage/client.ts';

/** What a cold start builds once and every invocation reuses. */
export interface Runtime {
  readonly config: Config;
  readonly spec: ModelSpec;
  readonly engine: Engine;
  readonly s3: S3Client;
  readonly context: HandlerContext;
  dispose(): Promise<void>;
}

/** Bytes of an ONNX file and of its external weights, if any (what each session holds). */
function modelBytes(path: string): number {
  const external = externalDataOf(path);
  return statSync(path).size + (external ? statSync(external).size : 0);
}

/**
 * Resolves the model (downloading it when allowed), opens its engine and the S3 client.
 * @param options.s3 a client to use instead of a new one (tests inject faults this way).
 */
export async function createRuntime(
  config: Config,
  options: { s3?: S3Client; onProgress?: (progress: DownloadProgress) => void } = {},
): Promise<Runtime> {
  const started = performance.now();
  // Nothing heavy is imported before this: the session thread should start as early as possible.
  const spec = await resolveModel(config.model, { onProgress: options.onProgress });
  const session = resolveSessionOptions(config.runtime, modelBytes(join(spec.dir, spec.file)), availableParallelism());
  const engine = await createEngine({ spec, limits: config.limits, session }).catch((cause: unknown) => {
    // ONNX Runtime's own message (a missing external-data file, a corrupt graph) is the useful part.
    if (cause instanceof VectorizerError) throw cause;
    throw new ConfigurationError(
      `The ${spec.type} model ${spec.id} could not be loaded from ${join(spec.dir, spec.file)}: ${cause instanceof Error ? cause.message : String(cause)}`,
      { cause },
    );
  });
  const s3 = options.s3 ?? lazyS3Client(config.s3);
  // Imported here, not above: Powertools loads while the model's session opens on its thread.
  const { logger } = await import('./logger.ts');
  logger.info('model loaded', {
    model_id: spec.id,
    model_type: spec.type,
    model_dir: spec.dir,
    model_file: spec.file,
    sessions: session.sessions,
    intra_op_threads: session.intraOpThreads,
    load_ms: Math.round(performance.now() - started),
  });
  return {
    config,
    spec,
    engine,
    s3,
    context: { engine, s3, limits: config.limits, allowedOutputBuckets: config.s3.allowedOutputBuckets },
    dispose: () => engine.dispose(),
  };
}
