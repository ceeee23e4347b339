import { toVectorizerError } from '../errors.ts';
import type { Embedded } from '../kinds/types.ts';
import { logger } from '../logger.ts';
import type { Services } from '../services.ts';
import { formatS3Uri, getObject, headObject, putJson } from '../storage/s3.ts';
import { chunkText } from './chunking.ts';
import { readImageDocument, readTextDocument } from './documents.ts';
import { isPermanent, UnsupportedFileTypeError } from './errors.ts';
import {
  buildErrorRecord,
  type ChunkOutput,
  errorLocation,
  isOwnOutputKey,
  outputLocation,
  SOURCE_ETAG_METADATA,
  type VectorsDocument,
} from './outputs.ts';
import type { S3ObjectRef } from './records.ts';

/** The slice of the services the worker's pipeline uses. */
export type PipelineServices = Pick<Services, 'config' | 'model' | 'engine' | 'documents' | 's3'>;

/** What happened to one object; only transient faults are thrown (the message is then retried). */
export type ObjectOutcome = 'written' | 'skipped-current' | 'ignored-own-output' | 'error-recorded';

async function embedObject(
  ref: S3ObjectRef,
  bytes: Uint8Array,
  services: PipelineServices,
): Promise<{ chunks: ChunkOutput[]; chunking?: VectorsDocument['chunking'] }> {
  const uri = formatS3Uri(ref);
  const { documents, config } = services;
  if (documents.reads === 'nothing') throw new UnsupportedFileTypeError(`${uri}: ${documents.reason}`);
  if (documents.reads === 'images') {
    const [embedded] = await documents.embed([readImageDocument(ref.key, bytes, uri, services.model.id)]);
    return { chunks: [{ start: 0, end: 0, tokens: 0, vector: embedded.vector }] };
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
    chunking: { max_tokens: maxTokens, overlap_tokens: config.pipeline.chunkOverlapTokens },
  };
}

/**
 * Embeds one S3 object and writes `<key>.vectors.json` beside it. Permanent problems (bad data,
 * unsupported type, too large, gone) become `<key>.error.json` and count as done; transient ones
 * are thrown so the message is retried (and ends in the DLQ if they persist).
 */
export async function processObject(ref: S3ObjectRef, services: PipelineServices): Promise<ObjectOutcome> {
  const { config, model } = services;
  if (isOwnOutputKey(ref.key, config.pipeline)) return 'ignored-own-output';
  const source = { bucket: ref.bucket, key: ref.key };
  let current: S3ObjectRef = ref;
  try {
    // The output's HEAD and the source's GET go out together: one round trip per file, not three.
    // The GET (which refuses an oversized body before reading it) gives the current ETag and size.
    const target = outputLocation(source, config.pipeline);
    const [existing, object] = await Promise.all([
      headObject(services.s3, target),
      getObject(services.s3, source, config.limits.maxInputBytes),
    ]);
    const head = { etag: object.etag, size: object.size };
    current = { ...ref, ...head };
    if (existing && head.etag && existing.metadata[SOURCE_ETAG_METADATA] === head.etag) return 'skipped-current';

    const { chunks, chunking } = await embedObject(current, object.bytes, services);
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
    await putJson(services.s3, target, document, head.etag ? { [SOURCE_ETAG_METADATA]: head.etag } : undefined);
    logger.info('object embedded', { source: formatS3Uri(source), output: formatS3Uri(target), chunks: chunks.length });
    return 'written';
  } catch (error) {
    const failure = toVectorizerError(error);
    if (!isPermanent(failure)) throw failure;
    const record = buildErrorRecord(current, failure, model.id, new Date());
    await putJson(services.s3, errorLocation(source, config.pipeline), record);
    logger.warn('object refused', { source: formatS3Uri(source), code: failure.code, reason: failure.message });
    return 'error-recorded';
  }
}
