/**
 * Backfill: brings a bucket's index (and sidecars) in line with the bucket without notifications:
 * what the index lacks or holds at another etag is embedded, what the bucket no longer has is
 * removed. `vectorizer sync` runs it; it is also how a new model's index is filled.
 */
import { ConfigurationError, toVectorizerError } from '../errors.ts';
import { listObjects } from '../storage/s3.ts';
import { IMAGE_EXTENSIONS, TEXT_EXTENSIONS } from './documents.ts';
import { isMetadataSidecar } from './metadata.ts';
import { isOwnOutputKey } from './outputs.ts';
import { type PipelineServices, processObject } from './process-object.ts';

export interface SyncProgress {
  readonly listed: number;
  readonly checked: number;
  readonly embedded: number;
  readonly current: number;
  readonly removed: number;
  readonly refused: number;
  readonly failed: number;
}

export interface SyncSummary extends SyncProgress {
  /** Refused (error records) and failed objects by error code. */
  readonly errors: Record<string, number>;
  readonly seconds: number;
}

/**
 * Syncs `bucket` (keys under `prefix`) with the index: `concurrency` objects at a time, each
 * through the worker's own path, so the result is what notifications would have produced.
 */
export async function syncBucket(
  services: PipelineServices,
  options: { bucket: string; prefix?: string; concurrency?: number; onProgress?: (progress: SyncProgress) => void },
): Promise<SyncSummary> {
  const { index } = services;
  if (!index) throw new ConfigurationError('vectorizer sync needs an index: set INDEX_SINK to lancedb or s3vectors (or auto).');
  const started = performance.now();
  const prefix = options.prefix ?? '';
  // The files the notifications deliver (every supported suffix): a model that does not embed one
  // gives it an error record, as the worker does for an event.
  const extensions: readonly string[] = [...TEXT_EXTENSIONS, ...IMAGE_EXTENSIONS];
  const [objects, indexed] = await Promise.all([
    listObjects(services.s3, options.bucket, prefix),
    index.listSources(options.bucket, prefix),
  ]);
  const sources = [...objects.keys()].filter(
    (key) =>
      !isOwnOutputKey(key, services.config.pipeline) &&
      !isMetadataSidecar(key) &&
      extensions.some((extension) => key.toLowerCase().endsWith(extension)),
  );
  // Gone: in the index but not in the bucket, or only a sidecar left beside a missing source
  // (outputs beside their sources: no OUTPUT_BUCKET or OUTPUT_PREFIX).
  const { pipeline } = services.config;
  const besideSources = !pipeline.outputBucket && !pipeline.outputPrefix;
  const orphans = besideSources
    ? [...objects.keys()].flatMap((key) => {
        const suffix = [pipeline.outputSuffix, pipeline.errorSuffix].find((candidate) => key.endsWith(candidate));
        const source = suffix ? key.slice(0, -suffix.length) : undefined;
        return source !== undefined && !objects.has(source) ? [source] : [];
      })
    : [];
  const gone = [...new Set([...indexed.keys(), ...orphans])].filter((key) => !objects.has(key));
  const counts = { listed: sources.length + gone.length, checked: 0, embedded: 0, current: 0, removed: 0, refused: 0, failed: 0 };
  const errors: Record<string, number> = {};
  const work = [
    ...sources.map((key) => ({ key, event: 'created' as const, current: indexed.get(key) === objects.get(key) })),
    ...gone.map((key) => ({ key, event: 'removed' as const, current: false })),
  ];
  let next = 0;
  async function lane(): Promise<void> {
    while (next < work.length) {
      const item = work[next++];
      try {
        // Current in the index: nothing to do (processObject would agree, at the cost of its reads).
        const outcome = item.current
          ? 'skipped-current'
          : await processObject({ bucket: options.bucket, key: item.key, event: item.event }, services);
        if (outcome === 'written') counts.embedded++;
        else if (outcome === 'removed') counts.removed++;
        else if (outcome === 'error-recorded') {
          counts.refused++;
          errors.refused = (errors.refused ?? 0) + 1;
        } else counts.current++;
      } catch (error) {
        counts.failed++;
        const code = toVectorizerError(error).code;
        errors[code] = (errors[code] ?? 0) + 1;
      }
      counts.checked++;
      options.onProgress?.({ ...counts });
    }
  }
  await Promise.all(Array.from({ length: Math.max(1, options.concurrency ?? 4) }, lane));
  return { ...counts, errors, seconds: Math.round((performance.now() - started) / 100) / 10 };
}
