import type { IndexDocument } from '../index/types.ts';
import { logger } from '../logger.ts';
import type { MetricsRecorder } from '../metrics.ts';
import type { Services } from '../services.ts';
import { formatS3Uri, getObjectIfExists, putJson, type S3ObjectData } from '../storage/s3.ts';
import { currentEtag, deleteUnlessUnlisted, listedAbsent } from './lookups.ts';
import { METADATA_SUFFIX, parseMetadataSidecar, sourceMetadata } from './metadata.ts';
import { type ChunkOutput, errorLocation, outputLocation, SOURCE_ETAG_METADATA, type VectorsDocument } from './outputs.ts';
import type { Chunking } from './text-chunks.ts';

/** The slice of the services the worker's pipeline uses. */
export type PipelineServices = Pick<Services, 'config' | 'model' | 'engine' | 'documents' | 's3' | 'listing' | 'index' | 'queue'> & {
  /** Where the worker's metrics go (none outside the handler: tests, sync). */
  readonly metrics?: MetricsRecorder;
};

/** One embedded version of a source, ready to be written. */
export interface Embedding {
  readonly source: { readonly bucket: string; readonly key: string; readonly etag?: string; readonly size: number };
  readonly chunks: readonly ChunkOutput[];
  /** The text of each chunk (the index stores it; the sidecar does not). */
  readonly texts: readonly string[];
  readonly chunking?: Chunking;
  /** The source's metadata as its GET or HEAD gave it (`x-amz-meta-*`). */
  readonly objectMetadata: Record<string, string>;
  /** The `<key>.metadata.json` sidecar, when it was read already (undefined: read it now). */
  readonly metadataSidecar?: S3ObjectData | null;
}

/** The index's view of a written document: one entry per chunk with its text, and the source's metadata. */
function indexDocumentOf(document: VectorsDocument, texts: readonly string[], metadata: IndexDocument['metadata']): IndexDocument {
  return {
    source: { bucket: document.source.bucket, key: document.source.key, etag: document.source.etag ?? '' },
    modelId: document.model_id,
    createdAt: document.created_at,
    metadata,
    chunks: document.chunks.flatMap((chunk, index) =>
      chunk.vector
        ? [
            {
              chunk: index,
              vector: chunk.vector,
              text: texts[index] ?? '',
              start: chunk.start,
              end: chunk.end,
              ...(chunk.item === undefined ? {} : { item: chunk.item }),
            },
          ]
        : [],
    ),
  };
}

/** The metadata sidecar of a source, or null when there is none (read only when an index keeps metadata). */
export async function readMetadataSidecar(
  services: PipelineServices,
  source: { bucket: string; key: string },
): Promise<S3ObjectData | null> {
  const location = { ...source, key: `${source.key}${METADATA_SUFFIX}` };
  if (await listedAbsent(services, location)) return null;
  return (await getObjectIfExists(services.s3, location, services.config.limits.maxInputBytes)) ?? null;
}

/** A document written: its chunks and tokens, or its image. */
function recordEmbedded(services: PipelineServices, document: VectorsDocument): void {
  const { metrics } = services;
  if (!metrics) return;
  metrics.count('DocumentsEmbedded');
  if (document.model_type === 'image') {
    metrics.count('ImagesEmbedded', document.count);
    return;
  }
  metrics.count('ChunksEmbedded', document.count);
  metrics.count(
    'TokensEmbedded',
    document.chunks.reduce((sum, chunk) => sum + chunk.tokens, 0),
  );
}

/**
 * Writes one embedded version of a source: `<key>.vectors.json` (marked with the source ETag), the
 * index's entries, and removes a stale `<key>.error.json`. Returns 'changed' when the source was
 * overwritten or deleted meanwhile: what was just written may have landed after the newer
 * version's outputs, and the caller brings them up to the object as it is now.
 */
export async function publish(embedding: Embedding, services: PipelineServices): Promise<'written' | 'changed'> {
  const { config, model, index } = services;
  const { source } = embedding;
  const where = { bucket: source.bucket, key: source.key };
  const target = outputLocation(where, config.pipeline);
  const document: VectorsDocument = {
    source: { bucket: source.bucket, key: source.key, etag: source.etag, size: source.size },
    model_id: model.id,
    model_type: model.type,
    dimension: embedding.chunks[0]?.vector?.length ?? model.dimension,
    ...(embedding.chunking ? { chunking: embedding.chunking } : {}),
    count: embedding.chunks.length,
    chunks: [...embedding.chunks],
    created_at: new Date().toISOString(),
  };
  const sidecar = index && embedding.metadataSidecar === undefined ? await readMetadataSidecar(services, where) : embedding.metadataSidecar;
  const metadata = sourceMetadata(
    embedding.objectMetadata,
    sidecar ? parseMetadataSidecar(sidecar.bytes, formatS3Uri({ ...where, key: `${where.key}${METADATA_SUFFIX}` })) : undefined,
  );
  await putJson(services.s3, target, document, source.etag ? { [SOURCE_ETAG_METADATA]: source.etag } : undefined);
  // After the sidecar: a failure here is retried, and the retry finds the index behind the sidecar.
  await index?.replaceSource(indexDocumentOf(document, embedding.texts, metadata));
  // The source as it is now (a listing shared with the batch's other files, made after these
  // writes) and an error record of an earlier, bad version, stale now.
  const [after] = await Promise.all([currentEtag(services, where), deleteUnlessUnlisted(services, errorLocation(where, config.pipeline))]);
  if (after !== source.etag) {
    logger.info('object changed while embedding', { source: formatS3Uri(where), embedded: source.etag, now: after ?? 'deleted' });
    return 'changed';
  }
  logger.info('object embedded', { source: formatS3Uri(where), output: formatS3Uri(target), chunks: document.count });
  recordEmbedded(services, document);
  return 'written';
}
