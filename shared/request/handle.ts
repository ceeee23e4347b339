import type { S3Client } from '@aws-sdk/client-s3';
import type { Limits } from '../config.ts';
import type { Engine, ImageEngine, RerankEngine, SparseEngine, TextEngine, TextOptions } from '../engines/types.ts';
import { PayloadTooLargeError, S3AccessDeniedError, UnsupportedForModelError } from '../errors.ts';
import { rankByScore } from '../math/ranking.ts';
import { sigmoid, toNumberArray } from '../math/vector.ts';
import { formatS3Uri, putJson } from '../storage/s3.ts';
import { type InputContext, readImages, readTextsFromS3 } from './inputs.ts';
import type { EmbeddingRequest } from './schema.ts';

/** What a request needs besides itself; built once per process. */
export interface HandlerContext {
  readonly engine: Engine;
  readonly s3: S3Client;
  readonly limits: Limits;
  /** Buckets `save_to_s3` may write to; empty means any. */
  readonly allowedOutputBuckets: readonly string[];
}

export interface Usage {
  tokens: number;
}

export interface DenseResponse {
  embeddings: number[][];
  dimension: number;
  model_type: 'text' | 'image';
  model_id: string;
  count: number;
  usage?: Usage;
  truncated?: number[];
  s3_location?: string;
}

export interface SparseResponse {
  sparse_embeddings: { indices: number[]; values: number[] }[];
  model_type: 'sparse';
  model_id: string;
  count: number;
  usage: Usage;
  truncated?: number[];
  s3_location?: string;
}

export interface RerankResponse {
  rankings: { index: number; score: number; document?: string }[];
  model_type: 'rerank';
  model_id: string;
  count: number;
  usage: Usage;
  truncated?: number[];
  s3_location?: string;
}

export type EmbeddingResponse = DenseResponse | SparseResponse | RerankResponse;

/** Request fields, by the model type they belong to; used to reject fields sent to the wrong model. */
const FIELDS_BY_TYPE = {
  text: ['messages', 's3_file', 'input_type', 'truncate'],
  sparse: ['messages', 's3_file', 'input_type', 'truncate'],
  image: ['images', 's3_images'],
  rerank: ['query', 'documents', 'top_k', 'return_documents', 'raw_scores', 'truncate'],
} as const;
const COMMON_FIELDS = ['save_to_s3'];
const EXAMPLES = {
  text: '{"messages": ["Hello world"]} or {"s3_file": "bucket/key"}',
  sparse: '{"messages": ["Hello world"]} or {"s3_file": "bucket/key"}',
  image: '{"images": [{"base64": "..."}]} or {"s3_images": ["bucket/key.png"]}',
  rerank: '{"query": "...", "documents": ["...", "..."]}',
} as const;

function checkFieldsForModel(request: EmbeddingRequest, engine: Engine): void {
  const allowed = new Set<string>([...FIELDS_BY_TYPE[engine.type], ...COMMON_FIELDS]);
  const foreign = Object.keys(request).filter((field) => !allowed.has(field));
  if (foreign.length > 0) {
    throw new UnsupportedForModelError(
      `This function serves the ${engine.type} model ${engine.spec.id}, which does not take ${foreign.join(', ')}. Send ${EXAMPLES[engine.type]}.`,
      { details: { model_type: engine.type, unsupported_fields: foreign, accepted_fields: [...allowed] } },
    );
  }
}

function requireExactlyOne(request: EmbeddingRequest, fields: readonly (keyof EmbeddingRequest)[], engine: Engine): void {
  const present = fields.filter((field) => request[field] !== undefined);
  if (present.length !== 1) {
    throw new UnsupportedForModelError(
      present.length === 0
        ? `The request has no input for the ${engine.type} model ${engine.spec.id}: send ${EXAMPLES[engine.type]}.`
        : `Send only one of ${present.join(' and ')}.`,
    );
  }
}

function checkCount(count: number, limits: Limits, what: string): void {
  if (count > limits.maxInputs) {
    throw new PayloadTooLargeError(
      `The request has ${count} ${what}; the limit is ${limits.maxInputs} (MAX_INPUTS). Split it into several requests.`,
    );
  }
}

/** The texts of a text or sparse request (inline or from S3) and how to encode them. */
async function textInputsOf(
  request: EmbeddingRequest,
  engine: TextEngine | SparseEngine,
  context: HandlerContext,
): Promise<{ texts: string[]; options: TextOptions }> {
  requireExactlyOne(request, ['messages', 's3_file'], engine);
  const texts = request.messages ?? (await readTextsFromS3(request.s3_file as string, inputContext(context)));
  checkCount(texts.length, context.limits, 'texts');
  return { texts, options: { truncate: request.truncate ?? true, inputType: request.input_type } };
}

function inputContext(context: HandlerContext): InputContext {
  return { s3: context.s3, maxInputBytes: context.limits.maxInputBytes, maxInputs: context.limits.maxInputs };
}

function withTruncation<T extends object>(response: T, truncated: number[]): T & { truncated?: number[] } {
  return truncated.length > 0 ? { ...response, truncated } : response;
}

async function handleText(request: EmbeddingRequest, engine: TextEngine, context: HandlerContext): Promise<DenseResponse> {
  const { texts, options } = await textInputsOf(request, engine, context);
  const result = await engine.embed(texts, options);
  return withTruncation(
    {
      embeddings: result.embeddings.map(toNumberArray),
      dimension: result.embeddings[0]?.length ?? engine.spec.dimension ?? 0,
      model_type: 'text' as const,
      model_id: engine.spec.id,
      count: result.embeddings.length,
      usage: { tokens: result.tokens },
    },
    result.truncated,
  );
}

async function handleSparse(request: EmbeddingRequest, engine: SparseEngine, context: HandlerContext): Promise<SparseResponse> {
  const { texts, options } = await textInputsOf(request, engine, context);
  const result = await engine.embed(texts, options);
  return withTruncation(
    {
      sparse_embeddings: result.vectors,
      model_type: 'sparse' as const,
      model_id: engine.spec.id,
      count: result.vectors.length,
      usage: { tokens: result.tokens },
    },
    result.truncated,
  );
}

async function handleImage(request: EmbeddingRequest, engine: ImageEngine, context: HandlerContext): Promise<DenseResponse> {
  requireExactlyOne(request, ['images', 's3_images'], engine);
  const images = await readImages(request, inputContext(context));
  const result = await engine.embed(images);
  return {
    embeddings: result.embeddings.map(toNumberArray),
    dimension: result.embeddings[0]?.length ?? engine.spec.dimension ?? 0,
    model_type: 'image',
    model_id: engine.spec.id,
    count: result.embeddings.length,
  };
}

async function handleRerank(request: EmbeddingRequest, engine: RerankEngine, context: HandlerContext): Promise<RerankResponse> {
  if (request.query === undefined || request.documents === undefined) {
    const missing = [request.query === undefined && 'query', request.documents === undefined && 'documents'].filter(Boolean);
    throw new UnsupportedForModelError(`The rerank model ${engine.spec.id} needs ${missing.join(' and ')}: send ${EXAMPLES.rerank}.`);
  }
  const documents = request.documents;
  checkCount(documents.length, context.limits, 'documents');
  const result = await engine.score(request.query, documents, { truncate: request.truncate ?? true });
  const scores = request.raw_scores ? result.logits : result.logits.map(sigmoid);
  const returnDocuments = request.return_documents ?? true;
  const rankings = rankByScore(scores, request.top_k).map(({ index, score }) =>
    returnDocuments ? { index, score, document: documents[index] } : { index, score },
  );
  return withTruncation(
    { rankings, model_type: 'rerank' as const, model_id: engine.spec.id, count: rankings.length, usage: { tokens: result.tokens } },
    result.truncated,
  );
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

async function saveToS3(response: EmbeddingResponse, destination: { bucket: string; key: string }, context: HandlerContext) {
  await putJson(context.s3, destination, response);
  return { ...response, s3_location: formatS3Uri(destination) };
}

/**
 * Serves one validated request with the process's engine: reads inputs (inline or S3), runs the
 * model, shapes the response and, when asked, saves it to S3. Used by the invoke handler and by
 * job messages of the worker alike.
 */
export async function handleEmbeddingRequest(request: EmbeddingRequest, context: HandlerContext): Promise<EmbeddingResponse> {
  const { engine } = context;
  checkFieldsForModel(request, engine);
  if (request.save_to_s3) checkOutputBucket(request.save_to_s3.bucket, context.allowedOutputBuckets);
  let response: EmbeddingResponse;
  switch (engine.type) {
    case 'text':
      response = await handleText(request, engine, context);
      break;
    case 'sparse':
      response = await handleSparse(request, engine, context);
      break;
    case 'image':
      response = await handleImage(request, engine, context);
      break;
    case 'rerank':
      response = await handleRerank(request, engine, context);
      break;
  }
  return request.save_to_s3 ? saveToS3(response, request.save_to_s3, context) : response;
}
