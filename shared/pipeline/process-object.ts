import type { Logger } from '@aws-lambda-powertools/logger';
import type { S3Client } from '@aws-sdk/client-s3';
import type { Limits, PipelineConfig } from '../config.ts';
import { toVectorizerError } from '../errors.ts';
import type { ModelSpec } from '../models/resolve.ts';
import { formatS3Uri, getObject, headObject, putJson } from '../storage/s3.ts';
import { chunkText } from './chunking.ts';
import { readDocument } from './documents.ts';
import type { Embedded, PipelineEmbedder } from './embedder.ts';
import { isPermanent } from './errors.ts';
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

export interface PipelineDeps {
  readonly s3: S3Client;
  readonly embedder: PipelineEmbedder;
  readonly spec: ModelSpec;
  readonly pipeline: PipelineConfig;
  readonly limits: Limits;
  readonly logger: Logger;
  readonly now?: () => Date;
}

/** What happened to one object; only transient faults are thrown (the message is then retried). */
export type ObjectOutcome = 'written' | 'skipped-current' | 'ignored-own-output' | 'error-recorded';

async function embedObject(
  ref: S3ObjectRef,
  bytes: Uint8Array,
  deps: PipelineDeps,
): Promise<{ chunks: ChunkOutput[]; chunking?: VectorsDocument['chunking'] }> {
  const uri = formatS3Uri(ref);
  const content = readDocument(ref.key, bytes, deps.spec.type, uri);
  if (content.kind === 'image') {
    const [embedded] = await deps.embedder.embedImages([content.bytes]);
    return { chunks: [{ start: 0, end: 0, tokens: 0, vector: embedded.vector }] };
  }
  const counter = deps.embedder.tokens;
  const maxTokens = Math.min(
    deps.pipeline.chunkMaxTokens ?? Number.POSITIVE_INFINITY,
    counter?.maxContentTokens ?? Number.POSITIVE_INFINITY,
  );
  const pieces = content.items.flatMap((entry) =>
    counter
      ? chunkText(entry.text, (piece) => counter.countContentTokens(piece), {
          maxTokens,
          overlapTokens: deps.pipeline.chunkOverlapTokens,
        }).map((chunk) => ({ ...chunk, item: entry.item, text: entry.text.slice(chunk.start, chunk.end) }))
      : [{ start: 0, end: entry.text.length, item: entry.item, text: entry.text }],
  );
  const embedded: Embedded[] = await deps.embedder.embedTexts(pieces.map((piece) => piece.text));
  return {
    chunks: pieces.map((piece, index) => ({
      ...(piece.item === undefined ? {} : { item: piece.item }),
      start: piece.start,
      end: piece.end,
      tokens: embedded[index].tokens,
      ...(embedded[index].vector ? { vector: embedded[index].vector } : { sparse: embedded[index].sparse }),
    })),
    chunking: { max_tokens: maxTokens, overlap_tokens: deps.pipeline.chunkOverlapTokens },
  };
}

/**
 * Embeds one S3 object and writes `<key>.vectors.json` beside it. Permanent problems (bad data,
 * unsupported type, too large, gone) become `<key>.error.json` and count as done; transient ones
 * are thrown so the message is retried (and ends in the DLQ if they persist).
 */
export async function processObject(ref: S3ObjectRef, deps: PipelineDeps): Promise<ObjectOutcome> {
  if (isOwnOutputKey(ref.key, deps.pipeline)) return 'ignored-own-output';
  const now = deps.now ?? (() => new Date());
  const source = { bucket: ref.bucket, key: ref.key };
  let current: S3ObjectRef = ref;
  try {
    // The output's HEAD and the source's GET go out together: one round trip per file, not three.
    // The GET (which refuses an oversized body before reading it) gives the current ETag and size.
    const target = outputLocation(source, deps.pipeline);
    const [existing, object] = await Promise.all([headObject(deps.s3, target), getObject(deps.s3, source, deps.limits.maxInputBytes)]);
    const head = { etag: object.etag, size: object.size };
    current = { ...ref, ...head };
    if (existing && head.etag && existing.metadata[SOURCE_ETAG_METADATA] === head.etag) return 'skipped-current';

    const { chunks, chunking } = await embedObject(current, object.bytes, deps);
    const document: VectorsDocument = {
      source: { bucket: ref.bucket, key: ref.key, etag: head.etag, size: head.size },
      model_id: deps.spec.id,
      model_type: deps.spec.type,
      dimension: chunks[0]?.vector?.length ?? deps.spec.dimension,
      ...(chunking ? { chunking } : {}),
      count: chunks.length,
      chunks,
      created_at: now().toISOString(),
    };
    await putJson(deps.s3, target, document, head.etag ? { [SOURCE_ETAG_METADATA]: head.etag } : undefined);
    deps.logger.info('object embedded', { source: formatS3Uri(source), output: formatS3Uri(target), chunks: chunks.length });
    return 'written';
  } catch (error) {
    const failure = toVectorizerError(error);
    if (!isPermanent(failure)) throw failure;
    const record = buildErrorRecord(current, failure, deps.spec.id, now());
    await putJson(deps.s3, errorLocation(source, deps.pipeline), record);
    deps.logger.warn('object refused', { source: formatS3Uri(source), code: failure.code, reason: failure.message });
    return 'error-recorded';
  }
}
