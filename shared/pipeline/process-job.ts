import { InvalidRequestError, toVectorizerError } from '../errors.ts';
import { logger } from '../logger.ts';
import { handleEmbeddingRequest } from '../request/handle.ts';
import { parseEmbeddingRequest, s3DestinationSchema } from '../request/schema.ts';
import { formatS3Uri, putJson, type S3Location } from '../storage/s3.ts';
import { isPermanent } from './errors.ts';
import type { JobErrorRecord } from './outputs.ts';
import type { PipelineServices } from './process-object.ts';

export type JobOutcome = 'written' | 'error-recorded' | 'error-logged';

/**
 * Where a job's result goes: its `save_to_s3` (read even from an otherwise invalid message, so the
 * error record lands where the caller looks), else `<RESULTS_PREFIX><message id>.json`.
 */
export function jobDestination(
  body: Record<string, unknown>,
  messageId: string,
  pipeline: PipelineServices['config']['pipeline'],
): S3Location | undefined {
  const explicit = s3DestinationSchema.safeParse(body.save_to_s3);
  if (explicit.success) return explicit.data;
  const bucket = pipeline.resultsBucket;
  return bucket ? { bucket, key: `${pipeline.resultsPrefix}${messageId}.json` } : undefined;
}

/**
 * Runs a job message (the invoke request schema) and stores its response. A permanent failure is
 * recorded beside the destination as `<key>.error.json`; transient ones are thrown for a retry.
 */
export async function processJob(body: Record<string, unknown>, messageId: string, services: PipelineServices): Promise<JobOutcome> {
  const { pipeline } = services.config;
  const destination = jobDestination(body, messageId, pipeline);
  try {
    const request = parseEmbeddingRequest(body);
    if (!destination) {
      throw new InvalidRequestError(
        'The job message has no save_to_s3 and the worker has no RESULTS_BUCKET: add "save_to_s3": {"bucket": ..., "key": ...}.',
      );
    }
    await handleEmbeddingRequest({ ...request, save_to_s3: destination }, services);
    logger.info('job done', { message_id: messageId, output: formatS3Uri(destination) });
    services.metrics?.count('Requests');
    return 'written';
  } catch (error) {
    const failure = toVectorizerError(error);
    if (!isPermanent(failure)) throw failure;
    logger.warn('job refused', { message_id: messageId, code: failure.code, reason: failure.message });
    services.metrics?.count('RequestErrors');
    services.metrics?.errorCode(failure.code);
    if (!destination) return 'error-logged';
    const record: JobErrorRecord = {
      job: { message_id: messageId, destination: formatS3Uri(destination) },
      error: { code: failure.code, message: failure.message, status: failure.statusCode },
      model_id: services.model.id,
      retryable: false,
      created_at: new Date().toISOString(),
    };
    // A refused output bucket is refused for the error record too; the log has it then.
    if (failure.code === 'S3_ACCESS_DENIED') return 'error-logged';
    await putJson(services.s3, { bucket: destination.bucket, key: `${destination.key}${pipeline.errorSuffix}` }, record);
    return 'error-recorded';
  }
}
