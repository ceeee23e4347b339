/** How `vectorizer ingest` knows what became of an uploaded file: its vectors document or its error record, of this upload. */
import type { S3Client } from '@aws-sdk/client-s3';
import { z } from 'zod';
import type { PipelineConfig } from '../config.ts';
import { errorLocation, outputLocation, SOURCE_ETAG_METADATA } from '../pipeline/outputs.ts';
import { commonPrefix } from '../storage/key-listing.ts';
import { bareEtag, getObjectIfExists, headObject, listObjects } from '../storage/s3.ts';
import { inLanes } from './ingest-files.ts';

/** Up to this many files waited for, each one's outputs are asked for by name; more, and one listing answers for all. */
export const DIRECT_CHECKS = 32;
/** Requests at once while checking. */
const CHECK_LANES = 16;

export interface IngestFailure {
  readonly key: string;
  readonly code: string;
  readonly message: string;
  /** `upload`: the file never reached the bucket; `pipeline`: the worker wrote an error record. */
  readonly stage: 'upload' | 'pipeline';
}

/** An uploaded file waited for. */
export interface IngestedFile {
  readonly key: string;
  /** The ETag the upload returned (no quotes); undefined until uploaded. */
  etag?: string;
  outcome?: { readonly status: 'embedded' } | { readonly status: 'error'; readonly failure: IngestFailure };
  /** ETags of outputs already read that belonged to other contents: not read again unless rewritten. */
  readonly seen: { vectors?: string; error?: string };
}

/** The fields of an error record ingest reads (loose: a record with more fields still counts). */
const errorRecordFields = z.object({
  source: z.object({ etag: z.string().optional() }),
  error: z.object({ code: z.string(), message: z.string() }),
});

/** JSON of an object, or undefined when it is not JSON (then it is no error record of ours). */
function parseJson(bytes: Uint8Array): unknown {
  try {
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return undefined;
  }
}

/**
 * Watches the outputs of uploaded files. An output counts only when it records the ETag this run
 * uploaded (the vectors document's `source-etag` metadata, the error record's `source.etag`), so
 * one an earlier run left for other contents is never taken for this one's. The same contents
 * uploaded again keep their ETag, and their output from before is theirs: the worker does not
 * embed again a file whose output already holds its ETag, so waiting for a newer one would wait
 * in vain.
 */
export function outputWatcher(s3: S3Client, pipeline: PipelineConfig, bucket: string) {
  const vectorsOf = (file: IngestedFile) => outputLocation({ bucket, key: file.key }, pipeline);
  const errorOf = (file: IngestedFile) => errorLocation({ bucket, key: file.key }, pipeline);
  const isCurrent = (recorded: string | undefined, file: IngestedFile) => !file.etag || bareEtag(recorded) === file.etag;

  /** Reads the outputs whose ETags changed since last seen; sets the outcome when one is this upload's. */
  async function settle(
    file: IngestedFile,
    found: { vectors?: string; error?: string; vectorsMetadata?: Record<string, string> },
  ): Promise<void> {
    if (found.vectors !== undefined && found.vectors !== file.seen.vectors) {
      const metadata = found.vectorsMetadata ?? (await headObject(s3, vectorsOf(file)))?.metadata;
      const recorded = metadata?.[SOURCE_ETAG_METADATA];
      if (isCurrent(recorded, file)) {
        file.outcome = { status: 'embedded' };
        return;
      }
      file.seen.vectors = found.vectors;
    }
    if (found.error !== undefined && found.error !== file.seen.error) {
      const object = await getObjectIfExists(s3, errorOf(file), 1024 * 1024);
      const record = object ? errorRecordFields.safeParse(parseJson(object.bytes)) : undefined;
      if (record?.success && isCurrent(record.data.source.etag, file)) {
        const { code, message } = record.data.error;
        file.outcome = { status: 'error', failure: { key: file.key, code, message, stage: 'pipeline' } };
        return;
      }
      file.seen.error = object?.etag ?? found.error;
    }
  }

  return {
    /**
     * One round of checks of files still waiting: by name (two HEADs each) when few, else by one
     * listing of their common prefix, then only outputs new since the last round are read.
     */
    async check(waiting: readonly IngestedFile[]): Promise<void> {
      if (waiting.length <= DIRECT_CHECKS) {
        await inLanes(waiting, CHECK_LANES, async (file) => {
          const [vectors, error] = await Promise.all([headObject(s3, vectorsOf(file)), headObject(s3, errorOf(file))]);
          // An object without an ETag (not S3's way, but possible elsewhere) still counts as there.
          await settle(file, {
            vectors: vectors ? (vectors.etag ?? '') : undefined,
            error: error ? (error.etag ?? '') : undefined,
            vectorsMetadata: vectors?.metadata,
          });
        });
        return;
      }
      const outputs = waiting.flatMap((file) => [vectorsOf(file).key, errorOf(file).key]);
      const listed = await listObjects(s3, vectorsOf(waiting[0]).bucket, commonPrefix(outputs));
      await inLanes(waiting, CHECK_LANES, (file) =>
        settle(file, { vectors: listed.get(vectorsOf(file).key), error: listed.get(errorOf(file).key) }),
      );
    },
  };
}
