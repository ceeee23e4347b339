/**
 * The Hugging Face Text Embeddings Inference API (`POST /embed`, `/embed_sparse`, `/rerank`,
 * `GET /info`) over this project's request schema, so TEI clients (`@huggingface/inference`,
 * LangChain's and LlamaIndex's TEI integrations) work unchanged. The bodies become
 * `{"messages"}` / `{"query", "documents"}` requests; the answers take TEI's shapes. TEI limits a
 * request to 32 inputs by default; here the limit is MAX_INPUTS, batched internally.
 */
import { z } from 'zod';
import type { Limits } from '../config.ts';
import { InvalidRequestError, toErrorBody, type VectorizerError } from '../errors.ts';
import type { Engine, InputType, RequestServices } from '../kinds/types.ts';
import type { ModelSpec } from '../models/types.ts';
import { requireKind, textsOfInput } from './checks.ts';
import { handleEmbeddingRequest } from './handle.ts';
import type { HttpAnswer } from './routes.ts';
import { type DenseResponse, parseBody, type RerankResponse, type SparseResponse } from './schema.ts';

type Services = RequestServices & { readonly engine: Engine };

const tokenIds = z.array(z.number().int());
/** A string, a list of strings, or (refused with a clear message) token ids. */
const inputsSchema = z.union([z.string(), z.array(z.union([z.string(), tokenIds])).min(1, 'inputs cannot be empty'), tokenIds]);
const direction = z.enum(['Right', 'Left', 'right', 'left']);

/** Fields TEI's embed routes share. */
const common = {
  inputs: inputsSchema,
  truncate: z.boolean().nullable().optional(),
  truncation_direction: direction.optional(),
  prompt_name: z.string().nullable().optional(),
};

export const teiEmbedRequestSchema = z.strictObject({
  ...common,
  normalize: z.boolean().optional(),
  dimensions: z.number().int().min(1, '`dimensions` should be positive').nullable().optional(),
});

export const teiEmbedSparseRequestSchema = z.strictObject(common);

export const teiRerankRequestSchema = z.strictObject({
  query: z.string(),
  texts: z.array(z.string()).min(1, '`texts` cannot be empty'),
  truncate: z.boolean().nullable().optional(),
  truncation_direction: direction.optional(),
  raw_scores: z.boolean().optional(),
  return_text: z.boolean().optional(),
});

/** sentence-transformers prompt names this project's query/passage prefixes answer to. */
const PROMPT_NAMES: Readonly<Record<string, InputType>> = { query: 'query', passage: 'passage', document: 'passage' };

/** TEI's truncation options as this project's: only right truncation is implemented. */
function truncationOf(body: { truncate?: boolean | null; truncation_direction?: string }): { truncate?: boolean } {
  if (body.truncation_direction?.toLowerCase() === 'left') {
    throw new InvalidRequestError('truncation_direction "Left" is not supported: inputs are cut at the end (Right).', {
      details: { param: 'truncation_direction' },
    });
  }
  return typeof body.truncate === 'boolean' ? { truncate: body.truncate } : {};
}

function inputTypeOf(promptName: string | null | undefined): { input_type?: InputType } {
  if (promptName === undefined || promptName === null) return {};
  const inputType = PROMPT_NAMES[promptName];
  if (!inputType) {
    throw new InvalidRequestError(
      `prompt_name ${JSON.stringify(promptName)} is unknown: use one of ${Object.keys(PROMPT_NAMES).join(', ')} (the model's query/passage prefixes).`,
      { details: { param: 'prompt_name' } },
    );
  }
  return { input_type: inputType };
}

/** `POST /embed`: a list of vectors, one per input (a list even for one string). */
export async function handleTeiEmbed(body: unknown, services: Services): Promise<HttpAnswer> {
  const request = parseBody(teiEmbedRequestSchema, body, '{"inputs": ["Hello world"]}');
  requireKind(services.engine, 'text', 'POST /embed');
  const response = (await handleEmbeddingRequest(
    {
      messages: textsOfInput(request.inputs, 'inputs', '`inputs` cannot be empty.'),
      ...truncationOf(request),
      ...inputTypeOf(request.prompt_name),
      ...(request.normalize === false ? { normalize: false } : {}),
      ...(typeof request.dimensions === 'number' ? { dimensions: request.dimensions } : {}),
    },
    services,
  )) as DenseResponse;
  return { status: 200, body: response.embeddings, headers: { 'x-compute-tokens': String(response.usage?.tokens ?? 0) } };
}

/** `POST /embed_sparse`: per input, its non-zero `{index, value}` pairs by ascending index. */
export async function handleTeiEmbedSparse(body: unknown, services: Services): Promise<HttpAnswer> {
  const request = parseBody(teiEmbedSparseRequestSchema, body, '{"inputs": ["Hello world"]}');
  requireKind(services.engine, 'sparse', 'POST /embed_sparse');
  const response = (await handleEmbeddingRequest(
    {
      messages: textsOfInput(request.inputs, 'inputs', '`inputs` cannot be empty.'),
      ...truncationOf(request),
      ...inputTypeOf(request.prompt_name),
    },
    services,
  )) as SparseResponse;
  return {
    status: 200,
    body: response.sparse_embeddings.map(({ indices, values }) => indices.map((index, position) => ({ index, value: values[position] }))),
    headers: { 'x-compute-tokens': String(response.usage.tokens) },
  };
}

/** `POST /rerank`: `{index, score, text?}` by descending score (sigmoid unless `raw_scores`). */
export async function handleTeiRerank(body: unknown, services: Services): Promise<HttpAnswer> {
  const request = parseBody(teiRerankRequestSchema, body, '{"query": "...", "texts": ["...", "..."]}');
  requireKind(services.engine, 'rerank', 'POST /rerank');
  const response = (await handleEmbeddingRequest(
    {
      query: request.query,
      documents: request.texts,
      raw_scores: request.raw_scores ?? false,
      return_documents: request.return_text ?? false,
      ...truncationOf(request),
    },
    services,
  )) as RerankResponse;
  return {
    status: 200,
    body: response.rankings.map(({ index, score, document }) =>
      document === undefined ? { index, score } : { index, score, text: document },
    ),
    headers: { 'x-compute-tokens': String(response.usage.tokens) },
  };
}

/** `GET /info`: what TEI reports of its model and limits. */
export function teiInfo(spec: ModelSpec, limits: Pick<Limits, 'maxInputs' | 'maxBatchTokens'>): HttpAnswer {
  const modelType =
    spec.type === 'rerank'
      ? { reranker: { id2label: { '0': 'LABEL_0' }, label2id: { LABEL_0: 0 } } }
      : { embedding: { pooling: spec.type === 'sparse' ? 'splade' : spec.pooling } };
  return {
    status: 200,
    body: {
      model_id: spec.id,
      model_sha: null,
      model_dtype: /quantized|int8|_q\b|optimized/i.test(spec.file) ? 'int8' : 'float32',
      model_type: modelType,
      max_concurrent_requests: 1,
      max_input_length: spec.maxTokens,
      max_batch_tokens: limits.maxBatchTokens,
      max_batch_requests: null,
      max_client_batch_size: limits.maxInputs,
      auto_truncate: true,
      tokenization_workers: 1,
      version: 'serverless-vectorizer',
      sha: null,
      docker_label: null,
    },
  };
}

/**
 * TEI's error body (`{"error", "error_type"}`) and statuses: a bad request is a 422 `Validation`
 * (401 without the API key, 413 when too large), a fault 424 `Backend`. Never 503:
 * `@huggingface/inference` retries a 503 without end.
 */
export function teiError(failure: VectorizerError): HttpAnswer {
  const { message } = toErrorBody(failure).error;
  if (!failure.isClientError) return { status: 424, body: { error: message, error_type: 'Backend' } };
  const status = [401, 405, 413].includes(failure.statusCode) ? failure.statusCode : 422;
  return { status, body: { error: message, error_type: 'Validation' } };
}
