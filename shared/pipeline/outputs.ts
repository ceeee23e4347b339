import type { PipelineConfig } from '../config.ts';
import type { VectorizerError } from '../errors.ts';
import type { SparseVector } from '../math/sparse.ts';
import type { ModelType } from '../models/types.ts';
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

export interface ChunkOutput {
  /** Position in the source's JSON array / JSONL lines, when the file has items. */
  readonly item?: number;
  /** Character offsets into the (item's) text. */
  readonly start: number;
  readonly end: number;
  readonly tokens: number;
  readonly vector?: number[];
  readonly sparse?: SparseVector;
}

/** The `<key>.vectors.json` document. */
export interface VectorsDocument {
  readonly source: { bucket: string; key: string; etag?: string; size?: number };
  readonly model_id: string;
  readonly model_type: ModelType;
  readonly dimension: number | null;
  readonly chunking?: { max_tokens: number; overlap_tokens: number };
  readonly count: number;
  readonly chunks: ChunkOutput[];
  readonly created_at: string;
}

/** The `<key>.error.json` document: why a file was not embedded, and that it will not be retried. */
export interface ErrorRecord {
  readonly source: { bucket: string; key: string; etag?: string; size?: number };
  readonly error: { code: string; message: string; status: number };
  readonly model_id: string;
  readonly retryable: false;
  readonly created_at: string;
}

export function buildErrorRecord(source: S3ObjectRef, error: VectorizerError, modelId: string, now: Date): ErrorRecord {
  return {
    source: { bucket: source.bucket, key: source.key, etag: source.etag, size: source.size },
    error: { code: error.code, message: error.message, status: error.statusCode },
    model_id: modelId,
    retryable: false,
    created_at: now.toISOString(),
  };
}
