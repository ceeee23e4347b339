/** The four kinds of model the product serves; every engine, schema and output is keyed by one (see kinds/). */
export const MODEL_TYPES = ['text', 'image', 'sparse', 'rerank'] as const;
export type ModelType = (typeof MODEL_TYPES)[number];

/**
 * How token vectors become one vector.
 * - `mean`: average of the token vectors over the attention mask (sentence-transformers default).
 * - `cls`: the first token's vector (BGE, Arctic, GTE, mxbai; image models with a `[batch, tokens, dim]` output).
 * - `none`: the model already outputs one vector per input (`sentence_embedding`, `image_embeds`).
 * A `[batch, dim]` output is used as it is whatever the pooling says (fastembed does the same).
 */
export const POOLINGS = ['mean', 'cls', 'none'] as const;
export type Pooling = (typeof POOLINGS)[number];

/**
 * How a sparse model's output becomes token weights.
 * - `splade`: MLM logits `[batch, seq, vocab]`, weight = max over tokens of log(1 + ReLU(logit)).
 * - `bge-m3`: BGE-M3's `sparse_linear` head over the token hidden states `[batch, seq, hidden]`:
 *   weight = ReLU(h·w + b), the largest per token id, special tokens skipped.
 */
export const SPARSE_HEADS = ['splade', 'bge-m3'] as const;
export type SparseHead = (typeof SPARSE_HEADS)[number];

/**
 * A model trained with Matryoshka Representation Learning: the first `d` values of its vector are
 * a good vector of size `d` (the `dimensions` request field). `layerNorm`: the model card takes a
 * layer norm over the whole pooled vector before truncating (nomic v1.5); the others truncate the
 * pooled (and normalised) vector directly. Both renormalise after truncating.
 */
export interface Matryoshka {
  /** The sizes the model was trained at (any size up to the full one is accepted; these are the tested ones). */
  readonly dimensions: readonly number[];
  readonly layerNorm: boolean;
}

/** Text put in front of inputs, per side of an asymmetric retrieval model (e5, bge, nomic). */
export interface Prefixes {
  readonly query?: string;
  readonly passage?: string;
}

/**
 * Which ONNX output an engine reads, in fastembed's order: the model's only output when it has
 * exactly one (`onlyOne`), else the first of `names` the model has. A model with none of them
 * fails at cold start with an error naming the expected and the found outputs.
 */
export interface OutputRule {
  readonly onlyOne: boolean;
  readonly names: readonly string[];
}

/** An ONNX input the engine feeds: always (the model must have it), or only when the model has it. */
export interface InputRule {
  readonly name: string;
  readonly when: 'always' | 'if-present';
}

/**
 * One catalog row: a (model id, ONNX file) variant with its whole contract, as the model's real
 * export and fastembed-rs (the seed's library) define it. The same id may appear more than once
 * (fp32 and quantized files); exactly one row per (type, id) has `isDefault: true`.
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
  /** Everything a download fetches: the ONNX file, `extraFiles`, and the kind's config/tokenizer/preprocessor files. */
  readonly downloads: readonly string[];
  /** Fetched when the repository has them (pooling settings, special tokens). */
  readonly optionalDownloads: readonly string[];
  readonly quantized: boolean;
  /** The row chosen when only the id is given. */
  readonly isDefault: boolean;
  /** The inputs the engine feeds (by name), and whether the model must have them. */
  readonly inputs: readonly InputRule[];
  /** The output the engine reads. */
  readonly output: OutputRule;
  /** The shape of that output, as the export has it (`batch`/`seq` are dynamic). */
  readonly outputShape: string;
  readonly pooling: Pooling;
  /** L2-normalise the pooled vector. */
  readonly normalize: boolean;
  /** Longest input in tokens (text kinds; 0 for images): the model's trained context, capped by tokenizer_config.json. */
  readonly maxTokens: number;
  readonly prefixes: Prefixes;
  /** Smaller vectors on request (`dimensions`), for Matryoshka-trained models; null for the others. */
  readonly matryoshka: Matryoshka | null;
  /** How images become pixels (image models): the processor of its preprocessor_config.json. */
  readonly preprocessing: string | null;
  /** How a sparse model's output becomes token weights (sparse models). */
  readonly sparseHead: SparseHead | null;
  /** The vector index (S3 Vectors) or table (LanceDB) this variant's vectors go to (index/keys.ts indexNameFor). */
  readonly indexName: string;
  /** Facts no source settles; the runtime checks them at cold start (see kinds/ and engines/session/contract.ts). */
  readonly unverified: readonly string[];
  /** Where the facts come from. */
  readonly sources: readonly string[];
}

/** Everything the engines need to serve one model, resolved once at start. */
export interface ModelSpec {
  readonly id: string;
  readonly type: ModelType;
  /** Absolute folder in the Hugging Face layout. */
  readonly dir: string;
  /** ONNX file relative to `dir`. */
  readonly file: string;
  readonly dimension: number | null;
  readonly pooling: Pooling;
  readonly normalize: boolean;
  readonly maxTokens: number;
  readonly prefixes: Prefixes;
  readonly matryoshka: Matryoshka | null;
  readonly inputs: readonly InputRule[];
  readonly output: OutputRule;
  readonly sparseHead: SparseHead | null;
  /** True when the catalog described the model; false when config.json did. */
  readonly fromCatalog: boolean;
}
