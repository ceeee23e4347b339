import { z } from 'zod';
import type { PipelineConfig } from '../config.ts';
import type { VectorizerError } from '../errors.ts';
import { MODEL_TYPES } from '../models/types.ts';
import { sparseVectorSchema } from '../request/schema.ts';
import type { S3Location } from '../storage/s3.ts';
import type { S3ObjectRef } from './records.ts';

/** The S3 metadata key holding the source ETag on every output, for the skip-if-current check. */
export const SOURCE_ETAG_METADATA = 'source-etag';

/** Where the vectors of `source` go: `<prefix><key><suffix>`, in the output bucket or the source's. */
export function outputLocation(source: { bucket: string; key: string }, config: PipelineConfig): S3Location {
  return { bucket: config.outputBucket ?? source.bucket, key: `${config.outputPrefix}${source.key}${config.outputSuffix}` };
}

/** Where the error record of `source` goes, beside its output. */
export function errorLocation(source: { bucket: string; key: string }, config: PipelineConfig): S3Location {
  return { bucket: config.outputBucket ?? source.bucket, key: `${config.outputPrefix}${source.key}${config.errorSuffix}` };
}

/** Keys the worker writes itself: never embedded again, or outputs would trigger outputs. */
export function isOwnOutputKey(key: string, config: PipelineConfig): boolean {
  return key.endsWith(config.outputSuffix) || key.endsWith(config.errorSuffix);
}

const sourceSchema = z.strictObject({
  bucket: z.string(),
  key: z.string(),
  etag: z.string().optional(),
  size: z.number().int().nonnegative().optional(),
});

export const chunkOutputSchema = z.strictObject({
  /** Position of the item in the source (JSON array entry, JSONL line, PDF page, CSV row), when the file has items. */
  item: z.number().int().nonnegative().optional(),
  /** The PDF page of the chunk (1-based). */
  page: z.number().int().positive().optional(),
  /** The CSV/TSV data row of the chunk (1-based, the header not counted). */
  row: z.number().int().positive().optional(),
  /** Character offsets into the (item's) text. */
  start: z.number().int().nonnegative(),
  end: z.number().int().nonnegative(),
  tokens: z.number().int().nonnegative(),
  vector: z.array(z.number()).optional(),
  sparse: sparseVectorSchema.optional(),
});

/** The `<key>.vectors.json` document. */
export const vectorsDocumentSchema = z.strictObject({
  source: sourceSchema,
  model_id: z.string(),
  model_type: z.enum(MODEL_TYPES),
  dimension: z.number().int().nonnegative().nullable(),
  chunking: z.strictObject({ max_tokens: z.number().int().positive(), overlap_tokens: z.number().int().nonnegative() }).optional(),
  count: z.number().int().nonnegative(),
  chunks: z.array(chunkOutputSchema),
  created_at: z.iso.datetime(),
});

/** The `<key>.error.json` document: why a file was not embedded, and that it will not be retried. */
export const errorRecordSchema = z.strictObject({
  source: sourceSchema,
  error: z.strictObject({ code: z.string(), message: z.string(), status: z.number().int() }),
  model_id: z.string(),
  retryable: z.literal(false),
  created_at: z.iso.datetime(),
});

/** The error record of a job message that will not be retried, beside its destination (`<key>.error.json`). */
export const jobErrorRecordSchema = z.strictObject({
  job: z.strictObject({ message_id: z.string(), destination: z.string() }),
  error: z.strictObject({ code: z.string(), message: z.string(), status: z.number().int() }),
  model_id: z.string(),
  retryable: z.literal(false),
  created_at: z.iso.datetime(),
});

export type ChunkOutput = z.infer<typeof chunkOutputSchema>;
export type JobErrorRecord = z.infer<typeof jobErrorRecordSchema>;
export type VectorsDocument = z.infer<typeof vectorsDocumentSchema>;
export type ErrorRecord = z.infer<typeof errorRecordSchema>;

export function buildErrorRecord(source: S3ObjectRef, error: VectorizerError, modelId: string, now: Date): ErrorRecord {
  return {
    source: { bucket: source.bucket, key: source.key, etag: source.etag, size: source.size },
    error: { code: error.code, message: error.message, status: error.statusCode },
    model_id: modelId,
    retryable: false,
    created_at: now.toISOString(),
  };
}
