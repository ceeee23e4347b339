import { InvalidRequestError, S3ObjectNotFoundError } from '../errors.ts';
import { logger } from '../logger.ts';
import { formatS3Uri, getObjectIfExists, headObject } from '../storage/s3.ts';
import { documentOptions, readTextDocument } from './documents.ts';
import { DeadlineExceededError } from './errors.ts';
import { currentEtag } from './lookups.ts';
import { outputLocation, SOURCE_ETAG_METADATA } from './outputs.ts';
import { deleteParts, partsPlace, readPart, storedRanges, storePart } from './part-store.ts';
import { type ChunkRange, chunksOfPart, coverOf, type PartMessage, resumeAt } from './parts.ts';
import { type ObjectOutcome, processObject, sliceTokensOf } from './process-object.ts';
import { type PipelineServices, publish } from './publish.ts';
import { chunkTextOf, embedChunks, itemsByPosition, withProvenance } from './text-chunks.ts';
import type { WorkContext } from './work.ts';

export type PartOutcome =
  /** Embedded and stored; other parts are still to come. */
  | 'stored'
  /** The last part: the document's output is written. */
  | 'assembled'
  /** Time ran out: what was embedded is stored, the rest is on the queue again. */
  | 'continued'
  /** The source changed or went since the part was planned, or its output is written already. */
  | 'abandoned'
  | ObjectOutcome;

/** The source a part was planned from, read and parsed once per invocation (parts of one document share it). */
function readSource(part: PartMessage, services: PipelineServices, work: WorkContext) {
  const source = { bucket: part.bucket, key: part.key };
  return work.once(`source ${part.bucket}/${part.key}`, async () => {
    const object = await getObjectIfExists(services.s3, source, services.config.limits.maxInputBytes);
    if (!object || object.etag !== part.etag) return { etag: object?.etag };
    const items = await readTextDocument(part.key, object.bytes, formatS3Uri(source), services.model.id, documentOptions(services.config));
    return { etag: object.etag, items, byItem: itemsByPosition(items), metadata: object.metadata };
  });
}

/**
 * Embeds one part of a large document (chunks from..to of its whole-document chunking): resumes
 * past what is stored already, embeds while the invocation's time allows, stores the result under
 * its range and sends the rest back to the queue; when the stored ranges cover the document, writes
 * its output. A part of a version that is no longer the object's is dropped, with its siblings.
 */
export async function processPart(part: PartMessage, services: PipelineServices, work: WorkContext): Promise<PartOutcome> {
  const source = { bucket: part.bucket, key: part.key };
  const uri = formatS3Uri(source);
  if (part.chunks.length !== part.to - part.from || part.to > part.total || part.from >= part.to) {
    throw new InvalidRequestError(
      `A part message of ${uri} is inconsistent: chunks ${part.from}..${part.to} of ${part.total}, ${part.chunks.length} given.`,
    );
  }
  const place = partsPlace(source, part.etag, services);
  const [read, assembled] = await Promise.all([readSource(part, services, work), assembledAlready(part, services)]);
  if (assembled) {
    // Assembled already (a duplicate delivery, or a crash before the parts were removed).
    await deleteParts(services, source, part.etag);
    return 'abandoned';
  }
  if (!read.items) {
    logger.info('part abandoned: the source changed', { source: uri, planned: part.etag, now: read.etag ?? 'deleted' });
    await deleteParts(services, source, part.etag);
    return 'abandoned';
  }
  const { items, byItem } = read;
  const from = resumeAt(await storedRanges(services, place), part);
  if (from < part.to) {
    const { documents, queue } = services;
    if (documents.reads !== 'texts') throw new Error(`processPart: the model ${services.model.id} does not embed texts`);
    const chunks = chunksOfPart(part)
      .slice(from - part.from)
      .map((chunk) => withProvenance(chunk, byItem));
    const texts = chunks.map((chunk) => chunkTextOf(items, chunk, byItem));
    // A newer version may land while this one is embedded: the part then stops within seconds,
    // not at the invocation's deadline, and its stored siblings go (as when its message comes late).
    let changed = false;
    const stillCurrent = async () => {
      changed = (await currentEtag(services, source)) !== part.etag;
      return !changed;
    };
    const done = await embedChunks(texts, chunks, documents, work, sliceTokensOf(services), stillCurrent);
    if (changed) {
      logger.info('part abandoned: the source changed while it was embedded', { source: uri, planned: part.etag });
      await deleteParts(services, source, part.etag);
      return 'abandoned';
    }
    const reached = from + done.length;
    if (done.length > 0) await storePart(services, place, { from, to: reached }, done, texts.slice(0, done.length));
    if (reached < part.to) {
      if (!queue)
        throw new DeadlineExceededError(`${uri}: the invocation's time ran out at chunk ${reached} of part ${part.from}..${part.to}.`);
      await queue.send([{ vectorizer_part: { ...part, from: reached, chunks: part.chunks.slice(reached - part.from) } }]);
      logger.info('part continued', { source: uri, from: part.from, to: part.to, reached });
      return 'continued';
    }
  }
  const cover = coverOf(await storedRanges(services, place), part.total);
  if (cover && services.queue && work.deadline.remainingMs() < work.deadline.budgetMs / 2) {
    // Writing a large output takes a while: an invocation with its whole budget does it (this
    // message again, which finds every range stored and goes straight to the assembly).
    await services.queue.send([{ vectorizer_part: part }]);
    return 'continued';
  }
  if (cover) {
    // Parts that finish together all see the cover: in this process, one assembles and the others
    // leave it to it; another instance's assembly shows as the output's ETag.
    return work.alone(
      `assemble ${part.bucket}/${part.key}@${part.etag}`,
      async () => ((await assembledAlready(part, services)) ? 'abandoned' : assemble(part, cover, read.metadata, services, work)),
      'stored' as const,
    );
  }
  // Another part may have assembled the document meanwhile (it saw this range stored by a
  // duplicate of this message): then what was just stored is left over.
  if (await assembledAlready(part, services)) await deleteParts(services, source, part.etag);
  return 'stored';
}

/** True when the source's output was written from this version (by another part's assembly). */
async function assembledAlready(part: PartMessage, services: PipelineServices): Promise<boolean> {
  const output = await headObject(services.s3, outputLocation({ bucket: part.bucket, key: part.key }, services.config.pipeline));
  return output?.metadata[SOURCE_ETAG_METADATA] === part.etag;
}

/** Writes the output of a document from its stored parts, then removes the parts. */
async function assemble(
  part: PartMessage,
  cover: readonly ChunkRange[],
  objectMetadata: Record<string, string>,
  services: PipelineServices,
  work: WorkContext,
): Promise<PartOutcome> {
  const source = { bucket: part.bucket, key: part.key };
  const place = partsPlace(source, part.etag, services);
  const started = performance.now();
  let parts: Awaited<ReturnType<typeof readPart>>[];
  try {
    parts = await Promise.all(cover.map((range) => readPart(services, place, range)));
  } catch (error) {
    // Two parts that finish together both see every range stored; the first to assemble removes them.
    if (error instanceof S3ObjectNotFoundError && (await assembledAlready(part, services))) return 'abandoned';
    throw error;
  }
  const published = await publish(
    {
      source: { ...source, etag: part.etag, size: part.size },
      chunks: parts.flatMap((stored) => stored.chunks),
      texts: parts.flatMap((stored) => stored.texts),
      chunking: part.chunking,
      objectMetadata,
    },
    services,
  );
  await deleteParts(services, source);
  if (published === 'changed') return processObject({ ...source, event: 'created' }, services, { force: true, work: work.fresh() });
  logger.info('document assembled', {
    source: formatS3Uri(source),
    chunks: part.total,
    parts: cover.length,
    ms: Math.round(performance.now() - started),
  });
  return 'assembled';
}
