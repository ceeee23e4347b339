import { toVectorizerError } from '../errors.ts';
import { logger } from '../logger.ts';
import { deleteObject, formatS3Uri, getObjectIfExists, headObject, OUTPUT_MARKER, putJson, type S3ObjectData } from '../storage/s3.ts';
import { documentOptions, readImageDocument, readTextDocument } from './documents.ts';
import { DeadlineExceededError, isPermanent, UnsupportedFileTypeError } from './errors.ts';
import { currentEtag, headUnlessUnlisted } from './lookups.ts';
import { isMetadataSidecar, sourceOfMetadataSidecar } from './metadata.ts';
import { buildErrorRecord, errorLocation, isOwnOutputKey, outputLocation, SOURCE_ETAG_METADATA } from './outputs.ts';
import { deleteParts, partsPlace, storePart } from './part-store.ts';
import { isPartKey, partMessage, splitByTokens } from './parts.ts';
import { type Embedding, type PipelineServices, publish, readMetadataSidecar } from './publish.ts';
import type { S3ObjectEvent, S3ObjectRef } from './records.ts';
import { chunkDocument, chunkTextOf, embedChunks, itemsByPosition } from './text-chunks.ts';
import { type WorkContext, workContext } from './work.ts';

export type { PipelineServices } from './publish.ts';

/** What happened to one object; only transient faults are thrown (the message is then retried). */
export type ObjectOutcome =
  | 'written'
  | 'skipped-current'
  | 'ignored-own-output'
  | 'error-recorded'
  | 'removed'
  | 'ignored-exists'
  /** Too large for one invocation: its parts are on the work queue. */
  | 'parts-queued'
  /** The invocation's time ran out: what was embedded is stored, the rest is on the work queue. */
  | 'continued';

/** Tokens per embedding call of a document: two batch budgets, so the deadline is checked every few seconds. */
export function sliceTokensOf(services: PipelineServices): number {
  return 2 * services.config.limits.maxBatchTokens;
}

/**
 * A removed source (deleted, or a delete marker created): its vectors leave the index and its
 * sidecars the bucket. When the object is there again (recreated since the event), nothing is
 * done: its own ObjectCreated event embeds it.
 */
export async function removeObject(ref: S3ObjectRef, services: PipelineServices, known: { gone?: boolean } = {}): Promise<ObjectOutcome> {
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

/** Deletes a source's vectors from the index, its `.vectors.json` and `.error.json`, and any parts. */
async function forgetObject(source: { bucket: string; key: string }, services: PipelineServices): Promise<void> {
  const { pipeline } = services.config;
  await Promise.all([
    deleteObject(services.s3, outputLocation(source, pipeline)),
    deleteObject(services.s3, errorLocation(source, pipeline)),
    deleteParts(services, source),
    services.index?.deleteSource(source),
  ]);
}

/**
 * Embeds a text document. Chunked whole, once; then, when it is larger than PART_TOKENS and a work
 * queue is configured, its parts go to the queue (any worker takes them; the last assembles the
 * output). Otherwise it is embedded here while the invocation's time allows; what is left when
 * time runs out is stored as a part and continued from the queue.
 */
async function embedText(
  current: Required<Pick<S3ObjectRef, 'bucket' | 'key' | 'etag'>> & { size: number },
  object: S3ObjectData,
  services: PipelineServices,
  work: WorkContext,
): Promise<Embedding | 'parts-queued' | 'continued'> {
  const { documents, config, model, queue } = services;
  if (documents.reads !== 'texts') throw new Error('embedText: not a text model');
  const uri = formatS3Uri(current);
  const items = await readTextDocument(current.key, object.bytes, uri, model.id, documentOptions(config));
  const { chunks, chunking } = chunkDocument(items, documents.tokens, config.pipeline);
  const byItem = itemsByPosition(items);
  const tokens = chunks.reduce((sum, chunk) => sum + chunk.tokens, 0);
  if (queue && tokens > config.pipeline.partTokens) {
    const ranges = splitByTokens(chunks, config.pipeline.partTokens);
    await queue.send(ranges.map((range) => partMessage(current, chunks, range, chunking)));
    logger.info('document split into parts', { source: uri, chunks: chunks.length, tokens, parts: ranges.length });
    return 'parts-queued';
  }
  const texts = chunks.map((chunk) => chunkTextOf(items, chunk, byItem));
  const done = await embedChunks(texts, chunks, documents, work, sliceTokensOf(services));
  if (done.length < chunks.length) {
    if (!queue) throw new DeadlineExceededError(`${uri}: the invocation's time ran out after ${done.length} of ${chunks.length} chunks.`);
    const place = partsPlace(current, current.etag, services);
    if (done.length > 0) await storePart(services, place, { from: 0, to: done.length }, done, texts.slice(0, done.length));
    // The rest as parts (a message carries the boundaries of its chunks, so a long rest is several).
    const rest = splitByTokens(chunks.slice(done.length), config.pipeline.partTokens).map((range) => ({
      from: range.from + done.length,
      to: range.to + done.length,
    }));
    await queue.send(rest.map((range) => partMessage(current, chunks, range, chunking)));
    logger.info('document continued', { source: uri, done: done.length, chunks: chunks.length });
    return 'continued';
  }
  return { source: current, chunks: done, texts, chunking, objectMetadata: object.metadata };
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
  options: { force?: boolean; work?: WorkContext } = {},
): Promise<ObjectOutcome> {
  const { config, model, index } = services;
  const work = options.work ?? workContext();
  if (isOwnOutputKey(ref.key, config.pipeline) || isPartKey(ref.key, config.pipeline.outputSuffix)) return 'ignored-own-output';
  // Job results the worker writes by message id (RESULTS_PREFIX): known by name, no S3 call.
  const { resultsBucket, resultsPrefix } = config.pipeline;
  if (ref.bucket === resultsBucket && resultsPrefix && ref.key.startsWith(resultsPrefix)) return 'ignored-own-output';
  // A metadata sidecar written, edited or deleted: its source is indexed again with what it says now.
  if (isMetadataSidecar(ref.key))
    return processObject({ bucket: ref.bucket, key: sourceOfMetadataSidecar(ref.key), event: 'created' }, services, { force: true, work });
  if (ref.event === 'removed') return removeObject(ref, services);
  const source = { bucket: ref.bucket, key: ref.key };
  let current: S3ObjectRef = ref;
  /** The ETag of the version read (none when the read itself failed). */
  let read = '';
  try {
    // The output's HEAD and the source's GET go out together: one round trip per file, not three.
    // The GET (which refuses an oversized body before reading it) gives the current ETag and size.
    // The output's HEAD and the sidecar's GET are skipped when the batch's listing says there is none.
    const [existing, object, sidecar] = await Promise.all([
      headUnlessUnlisted(services, outputLocation(source, config.pipeline)),
      getObjectIfExists(services.s3, source, config.limits.maxInputBytes),
      // Metadata matters to the index only: without one, no extra read.
      index ? readMetadataSidecar(services, source) : null,
    ]);
    // Deleted since the event was sent: its ObjectRemoved event may not have come yet.
    if (!object) return removeObject(ref, services, { gone: true });
    // One of this product's own outputs under another name (a save_to_s3 result): not a document.
    if (object.metadata[OUTPUT_MARKER]) return 'ignored-own-output';
    const head = { etag: object.etag ?? '', size: object.size };
    current = { ...ref, ...head };
    read = head.etag;
    const sidecarCurrent = Boolean(existing && head.etag && existing.metadata[SOURCE_ETAG_METADATA] === head.etag);
    if (!options.force && sidecarCurrent && (!index || (await index.sourceEtag(source)) === head.etag)) return 'skipped-current';

    const { documents } = services;
    if (documents.reads === 'nothing') throw new UnsupportedFileTypeError(`${formatS3Uri(source)}: ${documents.reason}`);
    let embedding: Embedding;
    if (documents.reads === 'images') {
      const [embedded] = await documents.embed([readImageDocument(ref.key, object.bytes, formatS3Uri(source), model.id)]);
      embedding = {
        source: { ...source, ...head },
        chunks: [{ start: 0, end: 0, tokens: 0, vector: embedded.vector }],
        texts: [''],
        objectMetadata: object.metadata,
      };
    } else {
      const result = await embedText({ ...source, ...head }, object, services, work);
      if (typeof result === 'string') return result;
      embedding = result;
    }
    const published = await publish({ ...embedding, metadataSidecar: sidecar }, services);
    // Overwritten (or deleted) while this version was embedding: bring the outputs up to the object as it is now.
    if (published === 'changed') return processObject({ ...source, event: 'created' }, services, { force: true, work: work.fresh() });
    return 'written';
  } catch (error) {
    const failure = toVectorizerError(error);
    if (!isPermanent(failure)) throw failure;
    const record = buildErrorRecord(current, failure, model.id, new Date());
    // What an earlier, good version left (its sidecar, vectors, parts) no longer describes the file.
    await Promise.all([
      putJson(services.s3, errorLocation(source, config.pipeline), record),
      deleteObject(services.s3, outputLocation(source, config.pipeline)),
      deleteParts(services, source),
      index?.deleteSource(source),
    ]);
    logger.warn('object refused', { source: formatS3Uri(source), code: failure.code, reason: failure.message });
    services.metrics?.count('DocumentErrors');
    services.metrics?.errorCode(failure.code);
    // Overwritten while this version failed (the version read, when it was read): a newer, good
    // version's outputs may have been written meanwhile and just removed; bring them back.
    if (read && (await currentEtag(services, source)) !== read) {
      return processObject({ ...source, event: 'created' }, services, { force: true, work: work.fresh() });
    }
    return 'error-recorded';
  }
}
