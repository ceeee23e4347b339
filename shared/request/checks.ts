/** Checks and shapes the kinds share when they serve a request (kinds/*.ts call these). */
import type { Limits } from '../config.ts';
import { InvalidRequestError, PayloadTooLargeError, UnsupportedForModelError } from '../errors.ts';
import type { Engine, RequestServices, TextOptions } from '../kinds/types.ts';
import type { ModelSpec, ModelType } from '../models/types.ts';
import { inputContext, readTextsFromS3 } from './inputs.ts';
import { ROUTE_FOR_KIND } from './routes.ts';
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

/** The served model is of `kind`, else an error naming the route that serves it. */
export function requireKind(engine: Engine, kind: ModelType, route: string): void {
  if (engine.type === kind) return;
  throw new UnsupportedForModelError(
    `${route} serves ${kind} models; this function serves the ${engine.type} model ${engine.spec.id}: use ${ROUTE_FOR_KIND[engine.type]}.`,
    { details: { model_type: engine.type } },
  );
}

/**
 * The texts of a compatible API's input field (`param`): one string, or a list of them. An empty
 * list (which parses as empty token ids too) gets `whenEmpty`; token ids are refused: this
 * service tokenises itself.
 */
export function textsOfInput(input: string | readonly unknown[], param: string, whenEmpty: string): string[] {
  const list = typeof input === 'string' ? [input] : input;
  if (list.length === 0) throw new InvalidRequestError(whenEmpty, { details: { param } });
  if (list.every((item) => typeof item === 'string')) return [...list] as string[];
  throw new InvalidRequestError(`${param} holds token ids: this endpoint tokenises itself, send the texts as strings.`, {
    details: { param },
  });
}

export function checkCount(count: number, limits: Pick<Limits, 'maxInputs'>, what: string): void {
  if (count > limits.maxInputs) {
    throw new PayloadTooLargeError(
      `The request has ${count} ${what}; the limit is ${limits.maxInputs} (MAX_INPUTS). Split it into several requests.`,
    );
  }
}

/**
 * The vector size a request asks for (`dimensions`), when the model was trained for smaller
 * vectors and the size is at most its own; undefined when the request asks for none.
 */
export function requestedDimensions(request: EmbeddingRequest, spec: ModelSpec): number | undefined {
  const size = request.dimensions;
  if (size === undefined || size === spec.dimension) return undefined;
  if (!spec.matryoshka) {
    throw new UnsupportedForModelError(
      `The model ${spec.id} was not trained for smaller vectors (Matryoshka), so it does not take dimensions; it returns ${spec.dimension} values. Models that do are marked in \`vectorizer list-models\`.`,
      { details: { param: 'dimensions', dimension: spec.dimension } },
    );
  }
  if (spec.dimension !== null && size > spec.dimension) {
    throw new InvalidRequestError(
      `dimensions is ${size}, more than the ${spec.dimension} values of ${spec.id}: ask for at most ${spec.dimension} (trained sizes: ${spec.matryoshka.dimensions.join(', ')}).`,
      { details: { param: 'dimensions', trained: spec.matryoshka.dimensions } },
    );
  }
  return size;
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
  return { texts, options: { truncate: request.truncate ?? true, inputType: request.input_type, normalize: request.normalize } };
}

/** The response with `truncated` when any input was cut. */
export function withTruncation<T extends object>(response: T, truncated: readonly number[]): T & { truncated?: number[] } {
  return truncated.length > 0 ? { ...response, truncated: [...truncated] } : response;
}
