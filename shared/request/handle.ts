import { S3AccessDeniedError, UnsupportedForModelError } from '../errors.ts';
import { KINDS } from '../kinds/index.ts';
import type { Engine, RequestServices } from '../kinds/types.ts';
import type { MetricsRecorder } from '../metrics.ts';
import { formatS3Uri, putJson } from '../storage/s3.ts';
import type { EmbeddingRequest, EmbeddingResponse } from './schema.ts';

/** Every kind takes `save_to_s3` besides its own fields. */
const COMMON_FIELDS = ['save_to_s3'];

/** Rejects fields that belong to another kind of model (images sent to a text model), naming the ones it takes. */
function checkFieldsForModel(request: EmbeddingRequest, engine: Engine): void {
  const kind = KINDS[engine.type];
  const allowed = new Set<string>([...kind.request.fields, ...COMMON_FIELDS]);
  const foreign = Object.keys(request).filter((field) => !allowed.has(field));
  if (foreign.length > 0) {
    throw new UnsupportedForModelError(
      `This function serves the ${engine.type} model ${engine.spec.id}, which does not take ${foreign.join(', ')}. Send ${kind.request.example}.`,
      { details: { model_type: engine.type, unsupported_fields: foreign, accepted_fields: [...allowed] } },
    );
  }
}

/** Refuses, before any work, a destination outside the allow-list (least privilege, clear error). */
export function checkOutputBucket(bucket: string, allowed: readonly string[]): void {
  if (allowed.length > 0 && !allowed.includes(bucket)) {
    throw new S3AccessDeniedError(
      `save_to_s3.bucket ${JSON.stringify(bucket)} is not an allowed output bucket: use one of ${allowed.join(', ')} (OUTPUT_BUCKETS).`,
      { details: { bucket, allowed } },
    );
  }
}

/** What a request embedded: its tokens, or its images. */
function recordServed(metrics: MetricsRecorder | undefined, response: EmbeddingResponse): void {
  if (!metrics) return;
  if ('model_type' in response && response.model_type === 'image') metrics.count('ImagesEmbedded', response.count);
  else if (response.usage) metrics.count('TokensEmbedded', response.usage.tokens);
}

/**
 * Serves one validated request with the process's engine: checks the fields belong to its kind,
 * lets the kind read the inputs (inline or S3), run the model and shape the response, and saves
 * it to S3 when asked. Used by the invoke handler and by job messages of the worker alike.
 */
export async function handleEmbeddingRequest(
  request: EmbeddingRequest,
  services: RequestServices & { readonly engine: Engine },
): Promise<EmbeddingResponse> {
  const { engine } = services;
  checkFieldsForModel(request, engine);
  if (request.save_to_s3) checkOutputBucket(request.save_to_s3.bucket, services.config.s3.allowedOutputBuckets);
  const response = await engine.handle(request, services);
  recordServed(services.metrics, response);
  if (!request.save_to_s3) return response;
  await putJson(services.s3, request.save_to_s3, response);
  return { ...response, s3_location: formatS3Uri(request.save_to_s3) };
}
