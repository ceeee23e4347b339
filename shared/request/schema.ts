import { z } from 'zod';
import { InvalidRequestError } from '../errors.ts';

/** `{ "base64": "..." }` (optionally a `data:` URL) or `{ "s3_path": "bucket/key" }`. */
export const imageInputSchema = z.union([
  z.strictObject({ base64: z.string().min(1, 'base64 must not be empty') }),
  z.strictObject({ s3_path: z.string().min(1, 's3_path must not be empty') }),
]);

export const s3DestinationSchema = z.strictObject({
  bucket: z.string().min(1),
  key: z.string().min(1),
});

/** Metadata values a filter matches exactly: what `x-amz-meta-*` and `<key>.metadata.json` hold. */
const metadataValueSchema = z.union([z.string(), z.number(), z.boolean()]);

/** `{"search": {...}}`: the index's nearest chunks to a query (text models with an INDEX_SINK). */
export const searchRequestSchema = z.strictObject({
  query: z.string().min(1, 'search.query must not be empty'),
  top_k: z.number().int().min(1).max(100).optional(),
  /** Equality on the sources' metadata, as the user wrote the keys (`x-amz-meta-team: ml` is `{"team": "ml"}`). */
  filter: z.record(z.string().min(1), metadataValueSchema).optional(),
  /** Only sources whose key starts with this. */
  prefix: z.string().optional(),
  /** Only sources of this bucket. */
  bucket: z.string().min(1).optional(),
});

/**
 * The direct request schema of the seed project, plus `input_type`, `truncate`, `raw_scores` and `search`.
 * Unknown fields are rejected, so a typo never silently does nothing.
 */
export const embeddingRequestSchema = z.strictObject({
  // text and sparse models
  messages: z.array(z.string()).min(1, 'messages must hold at least one text').optional(),
  s3_file: z.string().min(1).optional(),
  input_type: z.enum(['query', 'passage']).optional(),
  truncate: z.boolean().optional(),
  // text models: smaller vectors of Matryoshka-trained models, and unnormalised vectors
  dimensions: z.number().int().min(1, 'dimensions must be at least 1').optional(),
  normalize: z.boolean().optional(),
  // image models
  images: z.array(imageInputSchema).min(1, 'images must hold at least one image').optional(),
  s3_images: z.array(z.string().min(1)).min(1, 's3_images must hold at least one path').optional(),
  // rerank models
  query: z.string().optional(),
  documents: z.array(z.string()).min(1, 'documents must hold at least one document').optional(),
  top_k: z.number().int().min(1).optional(),
  return_documents: z.boolean().optional(),
  raw_scores: z.boolean().optional(),
  // text models with an index
  search: searchRequestSchema.optional(),
  // every model
  save_to_s3: s3DestinationSchema.optional(),
});

export type EmbeddingRequest = z.infer<typeof embeddingRequestSchema>;

// Responses: what each kind answers. Tests and clients validate against these, not re-declared shapes.
const usageSchema = z.strictObject({ tokens: z.number().int().nonnegative() });
const responseCommon = {
  model_id: z.string(),
  count: z.number().int().nonnegative(),
  /** Indices of inputs cut at the model's limit. */
  truncated: z.array(z.number().int().nonnegative()).optional(),
  /** Where `save_to_s3` stored the response. */
  s3_location: z.string().optional(),
};

/** Text and image models: one vector per input, in order. */
export const denseResponseSchema = z.strictObject({
  embeddings: z.array(z.array(z.number())),
  dimension: z.number().int().nonnegative(),
  model_type: z.enum(['text', 'image']),
  ...responseCommon,
  usage: usageSchema.optional(),
});

export const sparseVectorSchema = z.strictObject({
  indices: z.array(z.number().int().nonnegative()),
  values: z.array(z.number()),
});

/** Sparse models: token ids (ascending) and their weights, per input. */
export const sparseResponseSchema = z.strictObject({
  sparse_embeddings: z.array(sparseVectorSchema),
  model_type: z.literal('sparse'),
  ...responseCommon,
  usage: usageSchema,
});

/** Rerank models: documents by descending score. */
export const rerankResponseSchema = z.strictObject({
  rankings: z.array(z.strictObject({ index: z.number().int().nonnegative(), score: z.number(), document: z.string().optional() })),
  model_type: z.literal('rerank'),
  ...responseCommon,
  usage: usageSchema,
});

/** Search: the nearest chunks, best first; `chunk` is the position in the source's `<key>.vectors.json` `chunks`. */
export const searchResponseSchema = z.strictObject({
  results: z.array(
    z.strictObject({
      bucket: z.string(),
      key: z.string(),
      chunk: z.number().int().nonnegative(),
      start: z.number().int().nonnegative(),
      end: z.number().int().nonnegative(),
      item: z.number().int().nonnegative().optional(),
      /** The PDF page (1-based) of a chunk of a `.pdf`. */
      page: z.number().int().positive().optional(),
      /** The data row (1-based) of a chunk of a `.csv`/`.tsv`. */
      row: z.number().int().positive().optional(),
      /** Cosine similarity to the query. */
      score: z.number(),
      text: z.string(),
      metadata: z.record(z.string(), metadataValueSchema),
    }),
  ),
  model_id: z.string(),
  count: z.number().int().nonnegative(),
  usage: usageSchema,
  s3_location: z.string().optional(),
});

export const embeddingResponseSchema = z.union([denseResponseSchema, sparseResponseSchema, rerankResponseSchema, searchResponseSchema]);

export type DenseResponse = z.infer<typeof denseResponseSchema>;
export type SparseResponse = z.infer<typeof sparseResponseSchema>;
export type RerankResponse = z.infer<typeof rerankResponseSchema>;
export type SearchRequest = z.infer<typeof searchRequestSchema>;
export type SearchResponse = z.infer<typeof searchResponseSchema>;
export type EmbeddingResponse = z.infer<typeof embeddingResponseSchema>;
export type ImageInput = z.infer<typeof imageInputSchema>;
export type S3Destination = z.infer<typeof s3DestinationSchema>;

function describeIssue(issue: z.core.$ZodIssue): string {
  const path = issue.path.length
    ? issue.path
        .map((part) => (typeof part === 'number' ? `[${part}]` : `.${String(part)}`))
        .join('')
        .replace(/^\./, '')
    : 'request';
  if (issue.code === 'unrecognized_keys')
    return `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((key) => JSON.stringify(key)).join(', ')}${issue.path.length ? ` in ${path}` : ''}`;
  if (issue.code === 'invalid_union' && path.startsWith('images'))
    return `${path}: expected {"base64": "..."} or {"s3_path": "bucket/key"}`;
  return `${path}: ${issue.message}`;
}

/**
 * Validates a parsed body against `schema` (this project's or a compatible API's).
 * @param example a valid body, shown when the body is not even an object.
 * @throws InvalidRequestError listing every problem found.
 */
export function parseBody<T>(schema: z.ZodType<T>, body: unknown, example: string): T {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new InvalidRequestError(`The request must be a JSON object, e.g. ${example}.`);
  }
  const result = schema.safeParse(body);
  if (result.success) return result.data;
  const problems = result.error.issues.map(describeIssue);
  const param = result.error.issues[0]?.path[0];
  throw new InvalidRequestError(`Invalid request: ${problems.join('; ')}.`, {
    details: { problems, ...(typeof param === 'string' ? { param } : {}) },
  });
}

/**
 * Validates a parsed request body.
 * @throws InvalidRequestError listing every problem found.
 */
export function parseEmbeddingRequest(body: unknown): EmbeddingRequest {
  return parseBody(embeddingRequestSchema, body, '{"messages": ["Hello world"]}');
}
