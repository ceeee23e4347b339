import type { CatalogEntry, ModelType, Pooling, Prefixes } from './types.ts';

/**
 * The model catalog: every model of the seed project's README, one row per (id, ONNX file)
 * variant, with what the runtime needs. Runtime facts follow fastembed-rs (which the seed wraps)
 * and the models' Hugging Face cards.
 *
 * Default rule (deterministic): when only an id is given, its FIRST row below is used. Rows are in
 * the seed README's table order, so the default is the variant the seed lists first.
 */

const RETRIEVAL_QUERY = 'Represent this sentence for searching relevant passages: ';
const BGE_ZH_QUERY = '为这个句子生成表示以用于检索相关文章：';
const E5: Prefixes = { query: 'query: ', passage: 'passage: ' };
const NOMIC: Prefixes = { query: 'search_query: ', passage: 'search_document: ' };

interface Runtime {
  pooling: Pooling;
  maxTokens: number;
  prefixes?: Prefixes;
  outputName?: string;
  normalize?: boolean;
}

/** Runtime facts shared by a model family. */
const FAMILY = {
  sentenceTransformers: { pooling: 'mean', maxTokens: 512 },
  bgeEnglish: { pooling: 'cls', maxTokens: 512, prefixes: { query: RETRIEVAL_QUERY } },
  bgeChinese: { pooling: 'cls', maxTokens: 512, prefixes: { query: BGE_ZH_QUERY } },
  arctic: { pooling: 'cls', maxTokens: 512, prefixes: { query: RETRIEVAL_QUERY } },
  arcticLong: { pooling: 'cls', maxTokens: 2048, prefixes: { query: RETRIEVAL_QUERY } },
  e5: { pooling: 'mean', maxTokens: 512, prefixes: E5 },
  nomic: { pooling: 'mean', maxTokens: 8192, prefixes: NOMIC },
  gte: { pooling: 'cls', maxTokens: 8192 },
  mxbai: { pooling: 'cls', maxTokens: 512, prefixes: { query: RETRIEVAL_QUERY } },
  modernbert: { pooling: 'mean', maxTokens: 8192, prefixes: NOMIC },
  jinaCode: { pooling: 'mean', maxTokens: 8192 },
  bgeM3: { pooling: 'cls', maxTokens: 8192 },
  // EmbeddingGemma's ONNX export ends in the pooling and dense layers: it outputs the vector.
  gemma: {
    pooling: 'none',
    maxTokens: 2048,
    outputName: 'sentence_embedding',
    prefixes: { query: 'task: search result | query: ', passage: 'title: none | text: ' },
  },
  clipText: { pooling: 'none', maxTokens: 77, outputName: 'text_embeds' },
} as const satisfies Record<string, Runtime>;

interface RowInput {
  id: string;
  dimension: number | null;
  description: string;
  file: string;
  runtime: Runtime;
  extraFiles?: string[];
}

function row(type: ModelType, input: RowInput): Omit<CatalogEntry, 'isDefault'> {
  return {
    id: input.id,
    type,
    dimension: input.dimension,
    description: input.description,
    file: input.file,
    extraFiles: input.extraFiles ?? [],
    quantized: /quantized|_q|int8|optimized/i.test(input.file) || /Quantized/.test(input.description),
    pooling: input.runtime.pooling,
    normalize: input.runtime.normalize ?? (type === 'text' || type === 'image'),
    maxTokens: input.runtime.maxTokens,
    prefixes: input.runtime.prefixes ?? {},
    outputName: input.runtime.outputName ?? (type === 'text' ? 'last_hidden_state' : type === 'image' ? 'image_embeds' : 'logits'),
  };
}

const ONNX = 'onnx/model.onnx';
const ONNX_Q = 'onnx/model_quantized.onnx';
const OPTIMIZED = 'model_optimized.onnx';

const text = (id: string, dimension: number, description: string, file: string, runtime: Runtime, extraFiles?: string[]) =>
  row('text', { id, dimension, description, file, runtime, extraFiles });

const ROWS = [
  // Text models, in the seed README's order ("Prebuilt Docker Images").
  text('Xenova/all-MiniLM-L12-v2', 384, 'Quantized Sentence Transformer model, MiniLM-L12-v2', ONNX_Q, FAMILY.sentenceTransformers),
  text('snowflake/snowflake-arctic-embed-xs', 384, 'Snowflake Arctic embed model, xs', ONNX, FAMILY.arctic),
  text('Xenova/bge-small-zh-v1.5', 512, 'v1.5 release of the small Chinese model', ONNX, FAMILY.bgeChinese),
  text(
    'Qdrant/bge-small-en-v1.5-onnx-Q',
    384,
    'Quantized v1.5 release of the fast and default English model',
    OPTIMIZED,
    FAMILY.bgeEnglish,
  ),
  text('snowflake/snowflake-arctic-embed-s', 384, 'Quantized Snowflake Arctic embed model, small', ONNX_Q, FAMILY.arctic),
  text('snowflake/snowflake-arctic-embed-m-long', 768, 'Snowflake Arctic embed model, medium with 2048 context', ONNX, FAMILY.arcticLong),
  text('Xenova/bge-base-en-v1.5', 768, 'v1.5 release of the base English model', ONNX, FAMILY.bgeEnglish),
  text(
    'snowflake/snowflake-arctic-embed-m-long',
    768,
    'Quantized Snowflake Arctic embed model, medium with 2048 context',
    ONNX_Q,
    FAMILY.arcticLong,
  ),
  text(
    'Xenova/paraphrase-multilingual-mpnet-base-v2',
    768,
    'Sentence-transformers model for tasks like clustering or semantic search',
    ONNX,
    FAMILY.sentenceTransformers,
  ),
  text('Xenova/bge-large-zh-v1.5', 1024, 'v1.5 release of the large Chinese model', ONNX, FAMILY.bgeChinese),
  text('lightonai/modernbert-embed-large', 1024, 'Large model of ModernBert Text Embeddings', ONNX, FAMILY.modernbert),
  text('Qdrant/multilingual-e5-large-onnx', 1024, 'Large model of multilingual E5 Text Embeddings', 'model.onnx', FAMILY.e5, [
    'model.onnx_data',
  ]),
  text('Xenova/bge-large-en-v1.5', 1024, 'v1.5 release of the large English model', ONNX, FAMILY.bgeEnglish),
  text('intfloat/multilingual-e5-small', 384, 'Small model of multilingual E5 Text Embeddings', ONNX, FAMILY.e5),
  text('Snowflake/snowflake-arctic-embed-m', 768, 'Snowflake Arctic embed model, medium', ONNX, FAMILY.arctic),
  text('Alibaba-NLP/gte-large-en-v1.5', 1024, 'Large multilingual embedding model from Alibaba', ONNX, FAMILY.gte),
  text('Xenova/all-mpnet-base-v2', 768, 'Sentence Transformer model, mpnet-base-v2', ONNX, FAMILY.sentenceTransformers),
  text('nomic-ai/nomic-embed-text-v1', 768, '8192 context length english model', ONNX, FAMILY.nomic),
  text('Xenova/all-MiniLM-L6-v2', 384, 'Quantized Sentence Transformer model, MiniLM-L6-v2', ONNX_Q, FAMILY.sentenceTransformers),
  text('Alibaba-NLP/gte-base-en-v1.5', 768, 'Large multilingual embedding model from Alibaba', ONNX, FAMILY.gte),
  text('Alibaba-NLP/gte-large-en-v1.5', 1024, 'Quantized Large multilingual embedding model from Alibaba', ONNX_Q, FAMILY.gte),
  text('Qdrant/clip-ViT-B-32-text', 512, 'CLIP text encoder based on ViT-B/32', 'model.onnx', FAMILY.clipText),
  text('Qdrant/bge-base-en-v1.5-onnx-Q', 768, 'Quantized v1.5 release of the large English model', OPTIMIZED, FAMILY.bgeEnglish),
  text('Xenova/bge-small-en-v1.5', 384, 'v1.5 release of the fast and default English model', ONNX, FAMILY.bgeEnglish),
  text('snowflake/snowflake-arctic-embed-s', 384, 'Snowflake Arctic embed model, small', ONNX, FAMILY.arctic),
  text('jinaai/jina-embeddings-v2-base-code', 768, 'Jina embeddings v2 base code', ONNX, FAMILY.jinaCode),
  text('snowflake/snowflake-arctic-embed-l', 1024, 'Quantized Snowflake Arctic embed model, large', ONNX_Q, FAMILY.arctic),
  text('Qdrant/all-MiniLM-L6-v2-onnx', 384, 'Sentence Transformer model, MiniLM-L6-v2', 'model.onnx', FAMILY.sentenceTransformers),
  text('intfloat/multilingual-e5-base', 768, 'Base model of multilingual E5 Text Embeddings', ONNX, FAMILY.e5),
  text('Qdrant/paraphrase-multilingual-MiniLM-L12-v2-onnx-Q', 384, 'Quantized Multi-lingual model', OPTIMIZED, FAMILY.sentenceTransformers),
  text('Alibaba-NLP/gte-base-en-v1.5', 768, 'Quantized Large multilingual embedding model from Alibaba', ONNX_Q, FAMILY.gte),
  text('Xenova/all-MiniLM-L12-v2', 384, 'Sentence Transformer model, MiniLM-L12-v2', ONNX, FAMILY.sentenceTransformers),
  text('BAAI/bge-m3', 1024, 'Multilingual M3 model with 8192 context length, supports 100+ languages', ONNX, FAMILY.bgeM3, [
    'onnx/model.onnx_data',
  ]),
  text('nomic-ai/nomic-embed-text-v1.5', 768, 'v1.5 release of the 8192 context length english model', ONNX, FAMILY.nomic),
  text('nomic-ai/nomic-embed-text-v1.5', 768, 'Quantized v1.5 release of the 8192 context length english model', ONNX_Q, FAMILY.nomic),
  text('mixedbread-ai/mxbai-embed-large-v1', 1024, 'Large English embedding model from MixedBreed.ai', ONNX, FAMILY.mxbai),
  text('onnx-community/embeddinggemma-300m-ONNX', 768, 'EmbeddingGemma is a 300M parameter from Google', ONNX, FAMILY.gemma, [
    'onnx/model.onnx_data',
  ]),
  text('snowflake/snowflake-arctic-embed-xs', 384, 'Quantized Snowflake Arctic embed model, xs', ONNX_Q, FAMILY.arctic),
  text('mixedbread-ai/mxbai-embed-large-v1', 1024, 'Quantized Large English embedding model from MixedBreed.ai', ONNX_Q, FAMILY.mxbai),
  text('Snowflake/snowflake-arctic-embed-m', 768, 'Quantized Snowflake Arctic embed model, medium', ONNX_Q, FAMILY.arctic),
  text('snowflake/snowflake-arctic-embed-l', 1024, 'Snowflake Arctic embed model, large', ONNX, FAMILY.arctic),
  text('Xenova/paraphrase-multilingual-MiniLM-L12-v2', 384, 'Multi-lingual model', ONNX, FAMILY.sentenceTransformers),
  text('Qdrant/bge-large-en-v1.5-onnx-Q', 1024, 'Quantized v1.5 release of the large English model', OPTIMIZED, FAMILY.bgeEnglish),
  // Not in the seed's text table, which lists only the quantized file: the fp32 file of the same repository.
  text('Xenova/all-MiniLM-L6-v2', 384, 'Sentence Transformer model, MiniLM-L6-v2 (fp32 file)', ONNX, FAMILY.sentenceTransformers),

  // Image models ("Additional Supported Models").
  row('image', {
    id: 'Qdrant/clip-ViT-B-32-vision',
    dimension: 512,
    description: 'CLIP vision encoder based on ViT-B/32',
    file: 'model.onnx',
    runtime: { pooling: 'none', maxTokens: 0, outputName: 'image_embeds' },
  }),
  // unverified: fastembed reads the first output of these exports; the name is taken from the export.
  row('image', {
    id: 'Qdrant/resnet50-onnx',
    dimension: 2048,
    description: 'ResNet-50 from `Deep Residual Learning for Image Recognition <https://arxiv.org/abs/1512.03385>`__.',
    file: 'model.onnx',
    runtime: { pooling: 'none', maxTokens: 0, outputName: 'image_embeds' },
  }),
  row('image', {
    id: 'Qdrant/Unicom-ViT-B-16',
    dimension: 768,
    description: 'Unicom Unicom-ViT-B-16 from open-metric-learning',
    file: 'model.onnx',
    runtime: { pooling: 'none', maxTokens: 0, outputName: 'image_embeds' },
  }),
  row('image', {
    id: 'Qdrant/Unicom-ViT-B-32',
    dimension: 512,
    description: 'Unicom Unicom-ViT-B-32 from open-metric-learning',
    file: 'model.onnx',
    runtime: { pooling: 'none', maxTokens: 0, outputName: 'image_embeds' },
  }),
  row('image', {
    id: 'nomic-ai/nomic-embed-vision-v1.5',
    dimension: 768,
    description: 'Nomic NomicEmbedVisionV15',
    file: ONNX,
    runtime: { pooling: 'cls', maxTokens: 0, outputName: 'last_hidden_state' },
  }),

  // Sparse models.
  row('sparse', {
    id: 'Qdrant/Splade_PP_en_v1',
    dimension: null,
    description: 'Splade sparse vector model for commercial use, v1',
    file: 'model.onnx',
    runtime: { pooling: 'none', maxTokens: 512 },
  }),
  // unverified: BGE-M3's sparse head is not part of its ONNX export; served through the MLM-style logits path.
  row('sparse', {
    id: 'BAAI/bge-m3',
    dimension: null,
    description: 'BGE-M3 sparse embedding model with 8192 context, supports 100+ languages',
    file: ONNX,
    runtime: { pooling: 'none', maxTokens: 8192 },
    extraFiles: ['onnx/model.onnx_data'],
  }),

  // Rerank models.
  row('rerank', {
    id: 'BAAI/bge-reranker-base',
    dimension: null,
    description: 'reranker model for English and Chinese',
    file: ONNX,
    runtime: { pooling: 'none', maxTokens: 512 },
  }),
  row('rerank', {
    id: 'rozgo/bge-reranker-v2-m3',
    dimension: null,
    description: 'reranker model for multilingual',
    file: 'model.onnx',
    runtime: { pooling: 'none', maxTokens: 8192 },
  }),
  row('rerank', {
    id: 'jinaai/jina-reranker-v1-turbo-en',
    dimension: null,
    description: 'reranker model for English',
    file: ONNX,
    runtime: { pooling: 'none', maxTokens: 8192 },
  }),
  row('rerank', {
    id: 'jinaai/jina-reranker-v2-base-multilingual',
    dimension: null,
    description: 'reranker model for multilingual',
    file: ONNX,
    runtime: { pooling: 'none', maxTokens: 1024 },
  }),
];

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}

function markDefaults(rows: Omit<CatalogEntry, 'isDefault'>[]): CatalogEntry[] {
  const seen = new Set<string>();
  return rows.map((entry) => {
    const key = `${entry.type}:${entry.id}`;
    const isDefault = !seen.has(key);
    seen.add(key);
    return { ...entry, isDefault };
  });
}

/** Every catalog row, frozen. BGE-M3 appears as a text and as a sparse model. */
export const CATALOG: readonly CatalogEntry[] = deepFreeze(markDefaults(ROWS));

/** The model `npm start` serves when MODEL_ID is not set. */
export const DEFAULT_MODEL_ID = 'Xenova/bge-small-en-v1.5';

/**
 * The row for an id: with `file`, that exact variant; without, the id's default. Exact id match
 * first, then case-insensitive (hub ids are case-insensitive; the seed spells Snowflake both ways).
 * For ids that are both text and sparse (BGE-M3), `type` picks one; the text row wins otherwise.
 *
 * @example findCatalogEntry('Xenova/all-MiniLM-L6-v2', 'onnx/model.onnx')?.quantized // false
 */
export function findCatalogEntry(id: string, file?: string, type?: string): CatalogEntry | undefined {
  const candidates = (match: (entry: CatalogEntry) => boolean) =>
    CATALOG.filter(
      (entry) =>
        match(entry) && (type === undefined || entry.type === type) && (file === undefined ? entry.isDefault : entry.file === file),
    );
  const exact = candidates((entry) => entry.id === id);
  if (exact.length) return exact[0];
  const lower = id.toLowerCase();
  return candidates((entry) => entry.id.toLowerCase() === lower)[0];
}

/** Distinct ids, sorted, optionally of one type. */
export function catalogIds(type?: ModelType): string[] {
  return [...new Set(CATALOG.filter((entry) => type === undefined || entry.type === type).map((entry) => entry.id))].sort();
}
