/** Checks and shapes the kinds share when they serve a request (kinds/*.ts call these). */
import type { Limits } from '../config.ts';
import { PayloadTooLargeError, UnsupportedForModelError } from '../errors.ts';
import type { Engine, RequestServices, TextOptions } from '../kinds/types.ts';
import { inputContext, readTextsFromS3 } from './inputs.ts';
import type { EmbeddingRequest } from './schema.ts';

/** Exactly one of `fields` is present, else a message that names the model and shows `example`. */
export function requireExactlyOne(
  request: EmbeddingRequest,
  fields: readonly (keyof EmbeddingRequest)[],
  engine: Engine,
  example: string,
): void {
  const present = fields.filter((field) => request[field] !== undefined);
  if (present.length !== 1) {
    throw new UnsupportedForModelError(
      present.length === 0
        ? `The request has no input for the ${engine.type} model ${engine.spec.id}: send ${example}.`
        : `Send only one of ${present.join(' and ')}.`,
    );
  }
}

export function checkCount(count: number, limits: Pick<Limits, 'maxInputs'>, what: string): void {
  if (count > limits.maxInputs) {
    throw new PayloadTooLargeError(
      `The request has ${count} ${what}; the limit is ${limits.maxInputs} (MAX_INPUTS). Split it into several requests.`,
    );
  }
}

/** The texts of a text or sparse request (inline or from S3) and how to encode them. */
export async function textInputsOf(
  request: EmbeddingRequest,
  engine: Engine,
  services: RequestServices,
  example: string,
): Promise<{ texts: string[]; options: TextOptions }> {
  requireExactlyOne(request, ['messages', 's3_file'], engine, example);
  const { limits } = services.config;
  const texts = request.messages ?? (await readTextsFromS3(request.s3_file as string, inputContext(services)));
  checkCount(texts.length, limits, 'texts');
  return { texts, options: { truncate: request.truncate ?? true, inputType: request.input_type } };
}

/** The response with `truncated` when any input was cut. */
export function withTruncation<T extends object>(response: T, truncated: readonly number[]): T & { truncated?: number[] } {
  return truncated.length > 0 ? { ...response, truncated: [...truncated] } : response;
}
