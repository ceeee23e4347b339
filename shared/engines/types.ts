import type { Limits } from '../config.ts';
import type { SparseVector } from '../math/sparse.ts';
import type { ModelSpec } from '../models/resolve.ts';
import type { Session, SessionOptions } from './session/types.ts';

export type InputType = 'query' | 'passage';

export interface TextOptions {
  /** Cut over-long inputs at the model's limit (true) or reject them (false). */
  readonly truncate: boolean;
  /** Applies the model's query/passage prefix, when it has one. */
  readonly inputType?: InputType;
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

export interface TextEngine {
  readonly type: 'text';
  readonly spec: ModelSpec;
  embed(texts: readonly string[], options: TextOptions): Promise<TextUsage & { embeddings: Float32Array[] }>;
  readonly tokens: TokenCounter;
  dispose(): Promise<void>;
}

export interface SparseEngine {
  readonly type: 'sparse';
  readonly spec: ModelSpec;
  embed(texts: readonly string[], options: TextOptions): Promise<TextUsage & { vectors: SparseVector[] }>;
  readonly tokens: TokenCounter;
  dispose(): Promise<void>;
}

export interface RerankEngine {
  readonly type: 'rerank';
  readonly spec: ModelSpec;
  /** Raw logits, one per document, in the documents' order. */
  score(query: string, documents: readonly string[], options: TextOptions): Promise<TextUsage & { logits: number[] }>;
  dispose(): Promise<void>;
}

export interface ImageEngine {
  readonly type: 'image';
  readonly spec: ModelSpec;
  /** Encoded image files (PNG, JPEG, WebP, GIF, TIFF, AVIF), in order. */
  embed(images: readonly Uint8Array[]): Promise<{ embeddings: Float32Array[] }>;
  dispose(): Promise<void>;
}

export type Engine = TextEngine | SparseEngine | RerankEngine | ImageEngine;

/** What an engine factory is given: the resolved model and the limits; it opens its own session. */
export interface EngineOptions {
  readonly spec: ModelSpec;
  readonly limits: Limits;
  readonly session: SessionOptions;
}

/** What an engine factory gets: the options, and the model's session already being opened. */
export interface EngineParts extends EngineOptions {
  readonly opening: Promise<Session>;
}
