/** The four kinds of model the product serves; every engine, schema and output is keyed by one. */
export const MODEL_TYPES = ['text', 'image', 'sparse', 'rerank'] as const;
export type ModelType = (typeof MODEL_TYPES)[number];

/**
 * How token vectors become one vector.
 * - `mean`: average of `last_hidden_state` over the attention mask (sentence-transformers default).
 * - `cls`: the first token's vector (BGE, Arctic, GTE, mxbai).
 * - `none`: the model already outputs one vector per input (e.g. `sentence_embedding`, `image_embeds`).
 */
export const POOLINGS = ['mean', 'cls', 'none'] as const;
export type Pooling = (typeof POOLINGS)[number];

/** Text put in front of inputs, per side of an asymmetric retrieval model (e5, bge, nomic). */
export interface Prefixes {
  readonly query?: string;
  readonly passage?: string;
}

/**
 * One catalog row: a (model id, ONNX file) variant with what the runtime needs to serve it.
 * The same id may appear more than once (fp32 and quantized files); exactly one row per id has
 * `isDefault: true`, so resolving an id never depends on ordering or chance.
 */
export interface CatalogEntry {
  /** Hugging Face repository id, e.g. `Xenova/bge-small-en-v1.5`. */
  readonly id: string;
  readonly type: ModelType;
  /** Output dimension of dense models; `null` for sparse (vocabulary-sized) and rerank (a score). */
  readonly dimension: number | null;
  readonly description: string;
  /** ONNX file inside the repository, e.g. `onnx/model.onnx` or `onnx/model_quantized.onnx`. */
  readonly file: string;
  /** Other files the ONNX file needs beside it (external weights such as `onnx/model.onnx_data`). */
  readonly extraFiles: readonly string[];
  readonly quantized: boolean;
  /** The row chosen when only the id is given. */
  readonly isDefault: boolean;
  readonly pooling: Pooling;
  /** L2-normalise the pooled vector. */
  readonly normalize: boolean;
  /** Longest input in tokens the model accepts (position embeddings). */
  readonly maxTokens: number;
  readonly prefixes: Prefixes;
  /** Name of the ONNX output the engine reads (`last_hidden_state`, `sentence_embedding`, `logits`, `image_embeds`). */
  readonly outputName: string;
}
