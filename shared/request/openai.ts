/**
 * The OpenAI embeddings API (`POST /v1/embeddings`, `GET /v1/models`) over this project's request
 * schema: the body becomes `{"messages", "dimensions"}`, the answer is reshaped, so the vectors are
 * those of the invoke schema. Errors have OpenAI's shape, which its clients parse.
 */
import { z } from 'zod';
import { DependencyError, ModelNotFoundError, toErrorBody, type VectorizerError } from '../errors.ts';
import type { Engine, RequestServices } from '../kinds/types.ts';
import type { ModelSpec } from '../models/types.ts';
import { requireKind, textsOfInput } from './checks.ts';
import { handleEmbeddingRequest } from './handle.ts';
import type { HttpAnswer } from './routes.ts';
import { type DenseResponse, parseBody } from './schema.ts';

const EXAMPLE = '{"model": "<model id>", "input": ["Hello world"]}';

const tokenIds = z.array(z.number().int());

/** OpenAI's CreateEmbeddingRequest; token-id inputs parse, to be refused with a clear message. */
export const openAIEmbeddingsRequestSchema = z.strictObject({
  input: z.union([
    z.string().min(1, 'input must not be an empty string'),
    z.array(z.string().min(1, 'input must not hold an empty string')).min(1, 'input must hold at least one text'),
    tokenIds,
    z.array(tokenIds),
  ]),
  model: z.string().min(1).optional(),
  encoding_format: z.enum(['float', 'base64']).optional(),
  dimensions: z.number().int().min(1, 'dimensions must be at least 1').optional(),
  user: z.string().optional(),
});

export type OpenAIEmbeddingsRequest = z.infer<typeof openAIEmbeddingsRequestSchema>;

/** Little-endian float32 bytes in base64, as OpenAI's clients decode them. */
export function encodeBase64Floats(vector: readonly number[]): string {
  const bytes = Buffer.alloc(vector.length * 4);
  vector.forEach((value, index) => {
    bytes.writeFloatLE(value, index * 4);
  });
  return bytes.toString('base64');
}

/** The served model answers to its id, or to the name after the owner, in any case. */
function checkModel(requested: string | undefined, spec: ModelSpec): void {
  if (requested === undefined) return;
  const wanted = requested.toLowerCase();
  const id = spec.id.toLowerCase();
  if (wanted === id || wanted === id.slice(id.lastIndexOf('/') + 1)) return;
  throw new ModelNotFoundError(`The model \`${requested}\` is not served here: this function serves ${spec.id}.`, {
    details: { param: 'model', served: spec.id },
  });
}

export async function handleOpenAIEmbeddings(body: unknown, services: RequestServices & { readonly engine: Engine }): Promise<HttpAnswer> {
  const request = parseBody(openAIEmbeddingsRequestSchema, body, EXAMPLE);
  const { spec } = services.engine;
  checkModel(request.model, spec);
  requireKind(services.engine, 'text', 'POST /v1/embeddings');
  const response = (await handleEmbeddingRequest(
    {
      messages: textsOfInput(request.input, 'input', 'input must hold at least one text.'),
      ...(request.dimensions === undefined ? {} : { dimensions: request.dimensions }),
    },
    services,
  )) as DenseResponse;
  const base64 = request.encoding_format === 'base64';
  const tokens = response.usage?.tokens ?? 0;
  return {
    status: 200,
    body: {
      object: 'list',
      data: response.embeddings.map((vector, index) => ({
        object: 'embedding',
        index,
        embedding: base64 ? encodeBase64Floats(vector) : vector,
      })),
      model: spec.id,
      usage: { prompt_tokens: tokens, total_tokens: tokens },
    },
  };
}

/** `GET /v1/models`: the one model this function serves. */
export function listOpenAIModels(spec: ModelSpec): HttpAnswer {
  return {
    status: 200,
    body: { object: 'list', data: [{ id: spec.id, object: 'model', created: 0, owned_by: 'serverless-vectorizer' }] },
  };
}

/**
 * OpenAI's error body (`{"error": {"message", "type", "param", "code"}}`). Its clients retry 5xx
 * answers; only a dependency fault (S3 throttling) is worth it, so the others say not to.
 */
export function openAIError(failure: VectorizerError): HttpAnswer {
  const { message, details } = toErrorBody(failure).error;
  const param = typeof details?.param === 'string' ? details.param : null;
  const transient = failure instanceof DependencyError;
  return {
    status: failure.statusCode,
    body: {
      error: {
        message,
        type: failure.isClientError ? 'invalid_request_error' : 'server_error',
        param,
        code: failure.code.toLowerCase(),
      },
    },
    headers: failure.isClientError || transient ? {} : { 'x-should-retry': 'false' },
  };
}
