import { InvalidRequestError, toVectorizerError } from '../errors.ts';
import { type HandlerContext, handleEmbeddingRequest } from '../request/handle.ts';
import { parseEmbeddingRequest, s3DestinationSchema } from '../request/schema.ts';
import { formatS3Uri, putJson, type S3Location } from '../storage/s3.ts';
import { isPermanent } from './errors.ts';
import type { PipelineDeps } from './process-object.ts';

export type JobOutcome = 'written' | 'error-recorded' | 'error-logged';

/**
 * Where a job's result goes: its `save_to_s3` (read even from an otherwise invalid message, so the
 * error record lands where the caller looks), else `<RESULTS_PREFIX><message id>.json`.
 */
export function jobDestination(
  body: Record<string, unknown>,
  messageId: string,
  deps: Pick<PipelineDeps, 'pipeline'>,
): S3Location | undefined {
  const explicit = s3DestinationSchema.safeParse(body.save_to_s3);
  if (explicit.success) return explicit.data;
  const bucket = deps.pipeline.resultsBucket;
  return bucket ? { bucket, key: `${deps.pipeline.resultsPrefix}${messageId}.json` } : undefined;
}

/**
 * Runs a job message (the invoke request schema) and stores its response. A permanent failure is
 * recorded beside the destination as `<key>.error.json`; transient ones are thrown for a retry.
 */
export async function processJob(
  body: Record<string, unknown>,
  messageId: string,
  deps: PipelineDeps,
  context: HandlerContext,
): Promise<JobOutcome> {
  const destination = jobDestination(body, messageId, deps);
  try {
    const request = parseEmbeddingRequest(body);
    if (!destination) {
      throw new InvalidRequestError(
        'The job message has no save_to_s3 and the worker has no RESULTS_BUCKET: add "save_to_s3": {"bucket": ..., "key": ...}.',
      );
    }
    await handleEmbeddingRequest({ ...request, save_to_s3: destination }, context);
    deps.logger.info('job done', { message_id: messageId, output: formatS3Uri(destination) });
    return 'written';
  } catch (error) {
    const failure = toVectorizerError(error);
    if (!isPermanent(failure)) throw failure;
    deps.logger.warn('job refused', { message_id: messageId, code: failure.code, reason: failure.message });
    if (!destination) return 'error-logged';
    const record = {
      job: { message_id: messageId, destination: formatS3Uri(destination) },
      error: { code: failure.code, message: failure.message, status: failure.statusCode },
      model_id: deps.spec.id,
      retryable: false,
      created_at: (deps.now ?? (() => new Date()))().toISOString(),
    };
    // A refused output bucket is refused for the error record too; the log has it then.
    if (failure.code === 'S3_ACCESS_DENIED') return 'error-logged';
    await putJson(deps.s3, { bucket: destination.bucket, key: `${destination.key}${deps.pipeline.errorSuffix}` }, record);
    return 'error-recorded';
  }
}
