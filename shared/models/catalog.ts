import { indexNameFor } from '../index/keys.ts';
import { KINDS } from '../kinds/index.ts';
import type { CatalogEntry, InputRule, Matryoshka, ModelType, OutputRule, Pooling, Prefixes, SparseHead } from './types.ts';

/**
 * The model catalog: every model of the seed README, one row per (id, ONNX file) variant, each
 * with its whole contract (`vectorizer list-models --format json` prints it). The facts come
 * from fastembed-rs v5.6.0 (the seed's library; checked against its HEAD), fastembed (Python) and
 * the models' Hugging Face cards and file lists; `sources` names them per row, and `unverified`
 * lists what no source settles (the runtime checks those at cold start: kinds/, engines/session/contract.ts).
 *
 * Where this project differs from fastembed-rs on purpose (README, "Models"): inputs are truncated
 * at the model's trained context (`maxTokens`, capped by tokenizer_config.json), not at 512;
 * images keep their aspect ratio (resize of the shortest edge, centre crop, as the Hugging Face
 * processors do) where fastembed-rs squashes them to a square; query/passage prefixes of the model
 * cards are applied when a request says `input_type` (the worker embeds files as passages).
 *
 * Default rule (deterministic): when only an id is given, its FIRST row below is used. Rows are in
 * the seed README's table order, so the default is the variant the seed lists first.
 */

const RETRIEVAL_QUERY = 'Represent this sentence for searching relevant passages: ';
const BGE_ZH_QUERY = '为这个句子生成表示以用于检索相关文章：';
const E5: Prefixes = { query: 'query: ', passage: 'passage: ' };
const NOMIC: Prefixes = { query: 'search_query: ', passage: 'search_document: ' };

const FASTEMBED_TEXT =
  'fastembed-rs v5.6.0 src/models/text_embedding.rs, src/text_embedding/impl.rs (pooling), src/text_embedding/output.rs';
const FASTEMBED_IMAGE = 'fastembed-rs v5.6.0 src/models/image_embedding.rs, src/image_embedding/impl.rs, utils.rs';
const FASTEMBED_SPARSE = 'fastembed-rs v5.6.0 src/models/sparse.rs, src/sparse_text_embedding/impl.rs';
const FASTEMBED_RERANK = 'fastembed-rs v5.6.0 src/models/reranking.rs, src/reranking/impl.rs';
const NAMES_NOT_INSPECTED =
  "the export's output names (the rule picks its only output, else text_embeds, last_hidden_state, sentence_embedding)";

/** What a family's rows share beyond the kind's defaults. */
interface Family {
  pooling: Pooling;
  maxTokens: number;
  /** The shape of the output the rule picks, for the record. */
  outputShape: (dimension: number | null) => string;
  prefixes?: Prefixes;
  matryoshka?: Matryoshka;
  output?: OutputRule;
  inputs?: readonly InputRule[];
  normalize?: boolean;
  preprocessing?: string;
  sparseHead?: SparseHead;
  unverified?: readonly string[];
  sources: readonly string[];
}

const TOKENS = (dimension: number | null) => `last_hidden_state [batch, seq, ${dimension}]`;
const POOLED = (name: string) => (dimension: number | null) => `${name} [batch, ${dimension}]`;

/** Runtime facts shared by a model family. */
const FAMILY = {
  sentenceTransformers: { pooling: 'mean', maxTokens: 512, outputShape: TOKENS, sources: [FASTEMBED_TEXT] },
  bgeEnglish: { pooling: 'cls', maxTokens: 512, outputShape: TOKENS, prefixes: { query: RETRIEVAL_QUERY }, sources: [FASTEMBED_TEXT] },
  bgeChinese: { pooling: 'cls', maxTokens: 512, outputShape: TOKENS, prefixes: { query: BGE_ZH_QUERY }, sources: [FASTEMBED_TEXT] },
  arctic: {
    pooling: 'cls',
    maxTokens: 512,
    outputShape: TOKENS,
    prefixes: { query: RETRIEVAL_QUERY },
    unverified: [NAMES_NOT_INSPECTED],
    sources: [FASTEMBED_TEXT],
  },
  arcticLong: {
    pooling: 'cls',
    maxTokens: 2048,
    outputShape: TOKENS,
    prefixes: { query: RETRIEVAL_QUERY },
    unverified: [NAMES_NOT_INSPECTED],
    sources: [FASTEMBED_TEXT],
  },
  e5: {
    pooling: 'mean',
    maxTokens: 512,
    outputShape: TOKENS,
    prefixes: E5,
    sources: [FASTEMBED_TEXT, 'intfloat/multilingual-e5 model cards (prefixes)'],
  },
  nomic: {
    pooling: 'mean',
    maxTokens: 8192,
    outputShape: TOKENS,
    prefixes: NOMIC,
    sources: [FASTEMBED_TEXT, 'nomic-embed-text model cards (prefixes, 8192 context)'],
  },
  // v1.5 is Matryoshka-trained; its card takes a layer norm of the pooled vector before truncating.
  nomicV15: {
    pooling: 'mean',
    maxTokens: 8192,
    outputShape: TOKENS,
    prefixes: NOMIC,
    matryoshka: { dimensions: [768, 512, 256, 128, 64], layerNorm: true },
    sources: [FASTEMBED_TEXT, 'nomic-embed-text-v1.5 model card (prefixes, 8192 context, Matryoshka: layer_norm, truncate, normalize)'],
  },
  gte: { pooling: 'cls', maxTokens: 8192, outputShape: TOKENS, sources: [FASTEMBED_TEXT] },
  mxbai: {
    pooling: 'cls',
    maxTokens: 512,
    outputShape: TOKENS,
    prefixes: { query: RETRIEVAL_QUERY },
    matryoshka: { dimensions: [1024, 512], layerNorm: false },
    sources: [FASTEMBED_TEXT, 'mixedbread-ai/mxbai-embed-large-v1 model card (Matryoshka, truncate_dim=512)'],
  },
  // ModernBERT and jina-v2 exports have no token_type_ids input: it is fed only when present.
  modernbert: {
    pooling: 'mean',
    maxTokens: 8192,
    outputShape: TOKENS,
    prefixes: NOMIC,
    matryoshka: { dimensions: [1024, 256], layerNorm: false },
    unverified: [NAMES_NOT_INSPECTED],
    sources: [FASTEMBED_TEXT, 'lightonai/modernbert-embed-large model card (prefixes, Matryoshka 256)'],
  },
  jinaCode: { pooling: 'mean', maxTokens: 8192, outputShape: TOKENS, unverified: [NAMES_NOT_INSPECTED], sources: [FASTEMBED_TEXT] },
  // BGE-M3's export (XLM-R, no token_type_ids) outputs the CLS vector as `sentence_embedding` and
  // the token vectors as `token_embeddings`; the rule picks `sentence_embedding`.
  bgeM3: {
    pooling: 'cls',
    maxTokens: 8192,
    outputShape: (dimension) => `sentence_embedding [batch, ${dimension}] (beside token_embeddings [batch, seq, ${dimension}])`,
    unverified: ["the export's output names (sentence_embedding / token_embeddings, as reported; checked at cold start)"],
    sources: [FASTEMBED_TEXT, 'fastembed-rs HEAD (additional files unchanged)'],
  },
  // EmbeddingGemma's ONNX export ends in the pooling and dense layers: it outputs the vector.
  gemma: {
    pooling: 'none',
    maxTokens: 2048,
    outputShape: POOLED('sentence_embedding'),
    output: { onlyOne: false, names: ['sentence_embedding'] },
    prefixes: { query: 'task: search result | query: ', passage: 'title: none | text: ' },
    matryoshka: { dimensions: [768, 512, 256, 128], layerNorm: false },
    sources: [
      FASTEMBED_TEXT,
      'fastembed-rs ModelInfo.output_key = sentence_embedding',
      'google/embeddinggemma-300m model card (prompts, Matryoshka 512/256/128)',
    ],
  },
  clipText: { pooling: 'none', maxTokens: 77, outputShape: POOLED('text_embeds'), sources: [FASTEMBED_TEXT] },
} as const satisfies Record<string, Family>;

const CLIP_PREPROCESSING = 'CLIPImageProcessor: shortest edge 224 (bicubic), centre crop 224, rescale 1/255, CLIP mean/std';

/** Unicom exports (open-metric-learning): one input, one output, CLIP-style preprocessing. */
const UNICOM: Family = {
  pooling: 'none',
  maxTokens: 0,
  outputShape: (dimension) => `its only output [batch, ${dimension}]`,
  preprocessing: CLIP_PREPROCESSING,
  unverified: ["the export's input and output names (its only input and only output are read)", 'the preprocessor_config.json values'],
  sources: [FASTEMBED_IMAGE],
};

interface RowInput {
  id: string;
  dimension: number | null;
  description: string;
  file: string;
  family: Family;
  extraFiles?: string[];
  unverified?: string[];
}

function row(type: ModelType, input: RowInput): Omit<CatalogEntry, 'isDefault'> {
  const kind = KINDS[type];
  const extraFiles = input.extraFiles ?? [];
  const family = input.family;
  return {
    id: input.id,
    type,
    dimension: input.dimension,
    description: input.description,
    file: input.file,
    extraFiles,
    downloads: [input.file, ...extraFiles, ...kind.requiredFiles],
    optionalDownloads: kind.optionalFiles,
    quantized: /quantized|_q|int8|optimized/i.test(input.file) || /Quantized/.test(input.description),
    inputs: family.inputs ?? kind.inputs,
    output: family.output ?? kind.output,
    outputShape: family.outputShape(input.dimension),
    pooling: family.pooling,
    normalize: family.normalize ?? (type === 'text' || type === 'image'),
    maxTokens: family.maxTokens,
    prefixes: family.prefixes ?? {},
    matryoshka: family.matryoshka ?? null,
    preprocessing: family.preprocessing ?? null,
    sparseHead: family.sparseHead ?? null,
    indexName: indexNameFor(input.id, input.file),
    unverified: [...(family.unverified ?? []), ...(input.unverified ?? [])],
    sources: family.sources,
  };
}

const ONNX = 'onnx/model.onnx';
const ONNX_Q = 'onnx/model_quantized.onnx';
const OPTIMIZED = 'model_optimized.onnx';

const text = (id: string, dimension: number, description: string, file: string, family: Family, extraFiles?: string[]) =>
  row('text', {
    id,
    dimension,
    description,
    file,
    family,
    extraFiles,
    // Qdrant's optimised exports are not checked against either library's tests.
    unverified: file === OPTIMIZED && !family.unverified?.includes(NAMES_NOT_INSPECTED) ? [NAMES_NOT_INSPECTED] : [],
  });

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
    'onnx/Constant_7_attr__value',
  ]),
  text('nomic-ai/nomic-embed-text-v1.5', 768, 'v1.5 release of the 8192 context length english model', ONNX, FAMILY.nomicV15),
  text('nomic-ai/nomic-embed-text-v1.5', 768, 'Quantized v1.5 release of the 8192 context length english model', ONNX_Q, FAMILY.nomicV15),
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
  row('text', {
    id: 'Xenova/all-MiniLM-L6-v2',
    dimension: 384,
    description: 'Sentence Transformer model, MiniLM-L6-v2 (fp32 file)',
    file: ONNX,
    family: FAMILY.sentenceTransformers,
    unverified: ['not a fastembed-rs row (this project added the fp32 file): facts of its quantized sibling'],
  }),

  // Image models ("Additional Supported Models"). fastembed fetches only preprocessor_config.json and the ONNX file.
  row('image', {
    id: 'Qdrant/clip-ViT-B-32-vision',
    dimension: 512,
    description: 'CLIP vision encoder based on ViT-B/32',
    file: 'model.onnx',
    family: {
      pooling: 'none',
      maxTokens: 0,
      outputShape: POOLED('image_embeds'),
      preprocessing: CLIP_PREPROCESSING,
      sources: [FASTEMBED_IMAGE],
    },
  }),
  // The export (fastembed's notebook, torchvision resnet50 without its classifier) names its input
  // `input` and its output `output`, [batch, 2048, 1, 1]; the graph is fixed at 224 x 224.
  row('image', {
    id: 'Qdrant/resnet50-onnx',
    dimension: 2048,
    description: 'ResNet-50 from `Deep Residual Learning for Image Recognition <https://arxiv.org/abs/1512.03385>`__.',
    file: 'model.onnx',
    family: {
      pooling: 'none',
      maxTokens: 0,
      inputs: [{ name: 'input', when: 'if-present' }],
      outputShape: (dimension) => `output [batch, ${dimension}, 1, 1] (flattened) or [batch, ${dimension}]`,
      preprocessing:
        'ConvNextFeatureExtractor: shortest edge 224/crop_pct (256, aspect kept), centre crop 224, rescale 1/255, ImageNet mean/std',
      unverified: [
        'the output rank: [batch, 2048, 1, 1] by the export notebook, [batch, 2048] by fastembed-rs tests (both are read)',
        'the preprocessor_config.json values (the fixed 224 x 224 input is checked against them at cold start)',
      ],
      sources: [
        FASTEMBED_IMAGE,
        'fastembed (Python) experiments/Example. Convert Resnet50 to ONNX.ipynb, onnx_image_model.py (reshape to [batch, -1])',
      ],
    },
  }),
  row('image', {
    id: 'Qdrant/Unicom-ViT-B-16',
    dimension: 768,
    description: 'Unicom Unicom-ViT-B-16 from open-metric-learning',
    file: 'model.onnx',
    family: UNICOM,
  }),
  row('image', {
    id: 'Qdrant/Unicom-ViT-B-32',
    dimension: 512,
    description: 'Unicom Unicom-ViT-B-32 from open-metric-learning',
    file: 'model.onnx',
    family: UNICOM,
  }),
  // fastembed-rs tests: "outputs a 3D tensor with a different output key ('last_hidden_state')"; token 0 is the embedding.
  row('image', {
    id: 'nomic-ai/nomic-embed-vision-v1.5',
    dimension: 768,
    description: 'Nomic NomicEmbedVisionV15',
    file: ONNX,
    family: {
      pooling: 'cls',
      maxTokens: 0,
      outputShape: (dimension) => `last_hidden_state [batch, tokens, ${dimension}] (token 0)`,
      preprocessing: CLIP_PREPROCESSING,
      unverified: ['the preprocessor_config.json values'],
      sources: [FASTEMBED_IMAGE, 'fastembed-rs v5.6.0 tests/image-embeddings.rs'],
    },
  }),

  // Sparse models.
  row('sparse', {
    id: 'Qdrant/Splade_PP_en_v1',
    dimension: null,
    description: 'Splade sparse vector model for commercial use, v1',
    file: 'model.onnx',
    family: {
      pooling: 'none',
      maxTokens: 512,
      outputShape: () => 'logits [batch, seq, 30522]',
      sparseHead: 'splade',
      sources: [FASTEMBED_SPARSE],
    },
  }),
  // BGE-M3's sparse weights come from its sparse_linear head over the token vectors, not from MLM
  // logits: fastembed-rs bundles that head (converted from sparse_linear.pt); it is fetched from the
  // same repository here, and baked into the image with the model.
  row('sparse', {
    id: 'BAAI/bge-m3',
    dimension: null,
    description: 'BGE-M3 sparse embedding model with 8192 context, supports 100+ languages',
    file: ONNX,
    extraFiles: ['onnx/model.onnx_data', 'onnx/Constant_7_attr__value', 'sparse_linear.pt'],
    family: {
      pooling: 'none',
      maxTokens: 8192,
      output: { onlyOne: true, names: ['token_embeddings', 'last_hidden_state'] },
      outputShape: () => 'token_embeddings [batch, seq, 1024] (fastembed-rs: its first output)',
      sparseHead: 'bge-m3',
      unverified: ["the export's output names (token_embeddings, as reported; checked at cold start with the head's 1024 weights)"],
      sources: [
        FASTEMBED_SPARSE,
        'fastembed-rs src/sparse_text_embedding/bgem3_weights.rs (sparse_linear.safetensors from BAAI/bge-m3 sparse_linear.pt)',
      ],
    },
  }),

  // Rerank models: fastembed-rs reads `logits`, column 0 (raw; this project applies a sigmoid unless raw_scores).
  row('rerank', {
    id: 'BAAI/bge-reranker-base',
    dimension: null,
    description: 'reranker model for English and Chinese',
    file: ONNX,
    family: { pooling: 'none', maxTokens: 512, outputShape: () => 'logits [batch, 1]', sources: [FASTEMBED_RERANK] },
  }),
  // Its weights are over 2 GB: the export keeps them in model.onnx.data.
  row('rerank', {
    id: 'rozgo/bge-reranker-v2-m3',
    dimension: null,
    description: 'reranker model for multilingual',
    file: 'model.onnx',
    extraFiles: ['model.onnx.data'],
    family: { pooling: 'none', maxTokens: 8192, outputShape: () => 'logits [batch, 1]', sources: [FASTEMBED_RERANK] },
  }),
  row('rerank', {
    id: 'jinaai/jina-reranker-v1-turbo-en',
    dimension: null,
    description: 'reranker model for English',
    file: ONNX,
    family: {
      pooling: 'none',
      maxTokens: 8192,
      outputShape: () => 'logits [batch, 1]',
      unverified: ['whether the export takes token_type_ids (fed only when it does)'],
      sources: [FASTEMBED_RERANK],
    },
  }),
  row('rerank', {
    id: 'jinaai/jina-reranker-v2-base-multilingual',
    dimension: null,
    description: 'reranker model for multilingual',
    file: ONNX,
    family: {
      pooling: 'none',
      maxTokens: 1024,
      outputShape: () => 'logits [batch, 1]',
      unverified: ['whether the export takes token_type_ids (fed only when it does)'],
      sources: [FASTEMBED_RERANK],
    },
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
