/**
 * What a model kind is (text, sparse, rerank, image): one module per kind in this folder, one line
 * per kind in index.ts. A kind owns its contract defaults (files, inputs, output), the request
 * fields it accepts, its engine (which serves requests and embeds the worker's documents), its
 * batch limits and a warm-up request. Types only: the modules of this folder import these, never
 * the registry.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import type { Config, Limits } from '../config.ts';
import type { BatchLimits } from '../engines/batching/plan.ts';
import type { Session, SessionOptions } from '../engines/session/types.ts';
import type { IndexSink } from '../index/types.ts';
import type { SparseVector } from '../math/sparse.ts';
import type { MetricsRecorder } from '../metrics.ts';
import type { InputRule, ModelSpec, ModelType, OutputRule } from '../models/types.ts';
import type { EmbeddingRequest, EmbeddingResponse } from '../request/schema.ts';

export type InputType = 'query' | 'passage';

export interface TextOptions {
  /** Cut over-long inputs at the model's limit (true) or reject them (false). */
  readonly truncate: boolean;
  /** Applies the model's query/passage prefix, when it has one. */
  readonly inputType?: InputType;
  /** False: the pooled vectors as they are, not L2-normalised (a model that normalises in its graph still does). */
  readonly normalize?: boolean;
}

/** What every text-consuming engine reports besides its outputs. */
export interface TextUsage {
  /** Tokens fed to the model, special tokens included. */
  readonly tokens: number;
  /** Indices of inputs that were truncated. */
  readonly truncated: number[];
  /** Tokens of each input, in order. */
  readonly counts: number[];
}

/** Token counting for chunking: content tokens only, and how many fit one model input. */
export interface TokenCounter {
  /** Tokens of a piece of text, special tokens excluded. */
  countContentTokens(text: string): number;
  /** Content tokens one input may hold (the model's limit minus its special tokens). */
  readonly maxContentTokens: number;
}

/** One embedded text chunk or image of a document: a dense vector or a sparse one, and its token count. */
export interface Embedded {
  readonly vector?: number[];
  readonly sparse?: SparseVector;
  readonly tokens: number;
}

/**
 * The worker's view of an engine: document texts (chunks) or images in, vectors out, concurrent
 * callers merged into shared token-budget batches (engines/batching/coalesce.ts). A kind that
 * embeds no documents (rerank) says why, and the worker records that for the file.
 */
export type DocumentEmbedder =
  | { readonly reads: 'texts'; readonly tokens: TokenCounter; embed(texts: string[]): Promise<Embedded[]> }
  | { readonly reads: 'images'; embed(images: Uint8Array[]): Promise<Embedded[]> }
  | { readonly reads: 'nothing'; readonly reason: string };

/** The slice of the process's services a request needs (see services.ts). */
export interface RequestServices {
  readonly config: Pick<Config, 'limits' | 's3' | 'pipeline'>;
  readonly s3: S3Client;
  /** The vector index, when the deployment keeps one (search requests). */
  readonly index?: IndexSink;
  /** Where the handler's metrics go (none outside a handler). */
  readonly metrics?: MetricsRecorder;
}

/** An open model of some kind: serves requests, embeds the worker's documents. */
export interface Engine {
  readonly type: ModelType;
  readonly spec: ModelSpec;
  /** Serves one validated request whose fields belong to this kind (request/handle.ts checked them). */
  handle(request: EmbeddingRequest, services: RequestServices): Promise<EmbeddingResponse>;
  /** The worker's embedder over this engine. */
  documentEmbedder(): DocumentEmbedder;
  dispose(): Promise<void>;
}

/** What a kind's `open` gets: the resolved model, the limits, and its session already opening. */
export interface EngineParts {
  readonly spec: ModelSpec;
  readonly limits: Limits;
  readonly session: SessionOptions;
  readonly opening: Promise<Session>;
}

/** A request field a kind may accept (every kind also accepts `save_to_s3`). */
export type RequestField = Exclude<keyof EmbeddingRequest, 'save_to_s3'>;

export interface ModelKind {
  readonly type: ModelType;
  /** Files a model of this kind needs beside its ONNX file (and its extra weight files). */
  readonly requiredFiles: readonly string[];
  /** Fetched when present. */
  readonly optionalFiles: readonly string[];
  /** The inputs the engine feeds, unless the catalog row says otherwise. */
  readonly inputs: readonly InputRule[];
  /** The output the engine reads, unless the catalog row says otherwise. */
  readonly output: OutputRule;
  /** The request fields this kind takes, and an example request for error messages. */
  readonly request: { readonly fields: readonly RequestField[]; readonly example: string };
  /** Batch limits of one model run: the budget in flight (MAX_BATCH_TOKENS/IMAGES) shared by `sessions`. */
  batchLimits(limits: Pick<Limits, 'maxBatchTokens' | 'maxBatchImages' | 'batchInvariant'>, sessions: number): BatchLimits;
  /** A small request that runs every part of the engine once (`vectorizer warmup`). */
  sampleRequest(): Promise<EmbeddingRequest>;
  /** Opens the engine: loads the tokenizer or processor while the session opens, checks the model's contract. */
  open(parts: EngineParts): Promise<Engine>;
}
