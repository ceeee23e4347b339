import { S3ObjectNotFoundError, toVectorizerError } from '../errors.ts';
import type { IndexDocument } from '../index/types.ts';
import type { Embedded } from '../kinds/types.ts';
import { logger } from '../logger.ts';
import type { Services } from '../services.ts';
import { deleteObject, formatS3Uri, getObject, headObject, OUTPUT_MARKER, putJson } from '../storage/s3.ts';
import { chunkText } from './chunking.ts';
import { readImageDocument, readTextDocument } from './documents.ts';
import { isPermanent, UnsupportedFileTypeError } from './errors.ts';
import { isMetadataSidecar, METADATA_SUFFIX, parseMetadataSidecar, sourceMetadata, sourceOfMetadataSidecar } from './metadata.ts';
import {
  buildErrorRecord,
  type ChunkOutput,
  errorLocation,
  isOwnOutputKey,
  outputLocation,
  SOURCE_ETAG_METADATA,
  type VectorsDocument,
} from './outputs.ts';
import type { S3ObjectEvent, S3ObjectRef } from './records.ts';

/** The slice of the services the worker's pipeline uses. */
export type PipelineServices = Pick<Services, 'config' | 'model' | 'engine' | 'documents' | 's3' | 'index'>;

/** What happened to one object; only transient faults are thrown (the message is then retried). */
export type ObjectOutcome = 'written' | 'skipped-current' | 'ignored-own-output' | 'error-recorded' | 'removed' | 'ignored-exists';

async function embedObject(
  ref: S3ObjectRef,
  bytes: Uint8Array,
  services: PipelineServices,
): Promise<{ chunks: ChunkOutput[]; texts: string[]; chunking?: VectorsDocument['chunking'] }> {
  const uri = formatS3Uri(ref);
  const { documents, config } = services;
  if (documents.reads === 'nothing') throw new UnsupportedFileTypeError(`${uri}: ${documents.reason}`);
  if (documents.reads === 'images') {
    const [embedded] = await documents.embed([readImageDocument(ref.key, bytes, uri, services.model.id)]);
    return { chunks: [{ start: 0, end: 0, tokens: 0, vector: embedded.vector }], texts: [''] };
  }
  const items = readTextDocument(ref.key, bytes, uri, services.model.id);
  const counter = documents.tokens;
  const maxTokens = Math.min(config.pipeline.chunkMaxTokens ?? Number.POSITIVE_INFINITY, counter.maxContentTokens);
  const pieces = items.flatMap((entry) =>
    chunkText(entry.text, (piece) => counter.countContentTokens(piece), {
      maxTokens,
      overlapTokens: config.pipeline.chunkOverlapTokens,
    }).map((chunk) => ({ ...chunk, item: entry.item, text: entry.text.slice(chunk.start, chunk.end) })),
  );
  const embedded: Embedded[] = await documents.embed(pieces.map((piece) => piece.text));
  return {
    chunks: pieces.map((piece, index) => ({
      ...(piece.item === undefined ? {} : { item: piece.item }),
      start: piece.start,
      end: piece.end,
      tokens: embedded[index].tokens,
      ...(embedded[index].vector ? { vector: embedded[index].vector } : { sparse: embedded[index].sparse }),
    })),
    texts: pieces.map((piece) => piece.text),
    chunking: { max_tokens: maxTokens, overlap_tokens: config.pipeline.chunkOverlapTokens },
  };
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

/**
 * A removed source (deleted, or a delete marker created): its vectors leave the index and its
 * sidecars the bucket. When the object is there again (recreated since the event), nothing is
 * done: its own ObjectCreated event embeds it.
 */
async function removeObject(ref: S3ObjectRef, services: PipelineServices, known: { gone?: boolean } = {}): Promise<ObjectOutcome> {
  const source = { bucket: ref.bucket, key: ref.key };
  // `gone`: the caller's own read just found no object; no need to ask again.
  if (!known.gone && (await headObject(services.s3, source))) return 'ignored-exists';
  await forgetObject(source, services);
  // Recreated while this ran (its own event may have been handled in between, and its outputs
  // just forgotten): embed it again rather than leave it out of the index.
  if (await headObject(services.s3, source)) return processObject({ ...source, event: 'created' }, services, { force: true });
  logger.info('object removed', { source: formatS3Uri(source) });
  return 'removed';
}

/** Deletes a source's vectors from the index and its `.vectors.json` and `.error.json`. */
async function forgetObject(source: { bucket: string; key: string }, services: PipelineServices): Promise<void> {
  const { pipeline } = services.config;
  await Promise.all([
    deleteObject(services.s3, outputLocation(source, pipeline)),
    deleteObject(services.s3, errorLocation(source, pipeline)),
    services.index?.deleteSource(source),
  ]);
}

/**
 * Brings the outputs of one S3 object event in line with the bucket. Created: the object as it is
 * now (whatever version the event named) is embedded, `<key>.vectors.json` written beside it and
 * its vectors replaced in the index, a stale `<key>.error.json` removed; nothing is recomputed
 * when the sidecar and the index already hold its ETag. Removed (or gone since): its vectors and
 * sidecars go. Permanent problems (bad data, unsupported type, too large) become `<key>.error.json`
 * and remove what an earlier version left; transient ones (S3, the index) are thrown, so the
 * message is retried (and ends in the DLQ if they persist).
 */
export async function processObject(
  ref: S3ObjectEvent,
  services: PipelineServices,
  options: { force?: boolean } = {},
): Promise<ObjectOutcome> {
  const { config, model, index } = services;
  if (isOwnOutputKey(ref.key, config.pipeline)) return 'ignored-own-output';
  // Job results the worker writes by message id (RESULTS_PREFIX): known by name, no S3 call.
  const { resultsBucket, resultsPrefix } = config.pipeline;
  if (ref.bucket === resultsBucket && resultsPrefix && ref.key.startsWith(resultsPrefix)) return 'ignored-own-output';
  // A metadata sidecar written, edited or deleted: its source is indexed again with what it says now.
  if (isMetadataSidecar(ref.key))
    return processObject({ bucket: ref.bucket, key: sourceOfMetadataSidecar(ref.key), event: 'created' }, services, { force: true });
  if (ref.event === 'removed') return removeObject(ref, services);
  const source = { bucket: ref.bucket, key: ref.key };
  let current: S3ObjectRef = ref;
  try {
    // The output's HEAD and the source's GET go out together: one round trip per file, not three.
    // The GET (which refuses an oversized body before reading it) gives the current ETag and size.
    const target = outputLocation(source, config.pipeline);
    const metadataSidecar = { ...source, key: `${source.key}${METADATA_SUFFIX}` };
    const orMissing = (error: unknown) => {
      if (error instanceof S3ObjectNotFoundError) return undefined;
      throw error;
    };
    const [existing, object, sidecar] = await Promise.all([
      headObject(services.s3, target),
      getObject(services.s3, source, config.limits.maxInputBytes).catch(orMissing),
      // Metadata matters to the index only: without one, no extra read.
      index ? getObject(services.s3, metadataSidecar, config.limits.maxInputBytes).catch(orMissing) : undefined,
    ]);
    // Deleted since the event was sent: its ObjectRemoved event may not have come yet.
    if (!object) return removeObject(ref, services, { gone: true });
    // One of this product's own outputs under another name (a save_to_s3 result): not a document.
    if (object.metadata[OUTPUT_MARKER]) return 'ignored-own-output';
    const head = { etag: object.etag, size: object.size };
    current = { ...ref, ...head };
    const sidecarCurrent = Boolean(existing && head.etag && existing.metadata[SOURCE_ETAG_METADATA] === head.etag);
    if (!options.force && sidecarCurrent && (!index || (await index.sourceEtag(source)) === head.etag)) return 'skipped-current';
    const metadata = sourceMetadata(
      object.metadata,
      sidecar ? parseMetadataSidecar(sidecar.bytes, formatS3Uri(metadataSidecar)) : undefined,
    );

    const { chunks, texts, chunking } = await embedObject(current, object.bytes, services);
    const document: VectorsDocument = {
      source: { bucket: ref.bucket, key: ref.key, etag: head.etag, size: head.size },
      model_id: model.id,
      model_type: model.type,
      dimension: chunks[0]?.vector?.length ?? model.dimension,
      ...(chunking ? { chunking } : {}),
      count: chunks.length,
      chunks,
      created_at: new Date().toISOString(),
    };
    await Promise.all([
      putJson(services.s3, target, document, head.etag ? { [SOURCE_ETAG_METADATA]: head.etag } : undefined),
      // An error record of an earlier, bad version is stale now.
      deleteObject(services.s3, errorLocation(source, config.pipeline)),
    ]);
    // After the sidecar: a failure here is retried, and the retry finds the index behind the sidecar.
    await index?.replaceSource(indexDocumentOf(document, texts, metadata));
    // Overwritten (or deleted) while this version was embedding: what was just written may have
    // landed after the newer version's outputs, so bring them up to the object as it is now.
    const after = await headObject(services.s3, source);
    if (after?.etag !== head.etag) {
      logger.info('object changed while embedding', { source: formatS3Uri(source), embedded: head.etag, now: after?.etag ?? 'deleted' });
      return after
        ? processObject({ ...source, event: 'created' }, services, { force: true })
        : removeObject(ref, services, { gone: true });
    }
    logger.info('object embedded', { source: formatS3Uri(source), output: formatS3Uri(target), chunks: chunks.length });
    return 'written';
  } catch (error) {
    const failure = toVectorizerError(error);
    if (!isPermanent(failure)) throw failure;
    const record = buildErrorRecord(current, failure, model.id, new Date());
    // What an earlier, good version left (its sidecar and vectors) no longer describes the file.
    await Promise.all([
      putJson(services.s3, errorLocation(source, config.pipeline), record),
      deleteObject(services.s3, outputLocation(source, config.pipeline)),
      index?.deleteSource(source),
    ]);
    logger.warn('object refused', { source: formatS3Uri(source), code: failure.code, reason: failure.message });
    return 'error-recorded';
  }
}
