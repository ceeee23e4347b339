/**
 * The contenders of `vectorizer bench`, each loaded in its own process (see child.ts) so that peak
 * memory and cold start are its own. Every contender embeds the same items with the same threads.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Tensor } from 'onnxruntime-node';
import { type BatchLimits, planBatches } from '../shared/engines/batching/plan.ts';
import type { Encoding } from '../shared/engines/tokenizer.ts';
import type { ModelType } from '../shared/models/types.ts';

// Every contender imports its own stack lazily: fastembed brings its own onnxruntime-node (1.21),
// which cannot load once this project's 1.30 native library is in the process.

/** A text (text, sparse), a document scored against the fixed query (rerank), or image bytes. */
export type Item = string | Uint8Array;

export interface BenchSpec {
  readonly contender: string;
  readonly type: ModelType;
  readonly modelDir: string;
  readonly modelFile: string;
  readonly threads: number;
  /** The rerank query every document is scored against. */
  readonly query: string;
  /** Batch sizes a contender may try when it picks its best (fewer in --quick). */
  readonly batchSizes: readonly number[];
  /** The batch limits this project's engine plans with (the floor can run the same batches). */
  readonly plan: BatchLimits;
}

export interface Contender {
  /** Untimed: pre-tokenise, pick the batch size; returns a note for the report. */
  prepare?(items: Item[]): Promise<string | undefined>;
  run(items: Item[]): Promise<void>;
  /** A small request (the latency samples), when the contender cuts it otherwise than a throughput run. */
  runSmall?(items: Item[]): Promise<void>;
}

export const RERANK_QUERY = 'what is the best way to keep the public informed about local government';

const texts = (items: Item[]) => items as string[];

/**
 * The largest fixed batch size a contender tries. SPLADE's output is a vocabulary-wide row per
 * token: 64 texts of 512 tokens are 4 GB of logits, which got processes killed for memory; 16 are 1 GB.
 */
const largestBatch = (type: ModelType) => (type === 'sparse' ? 16 : Number.POSITIVE_INFINITY);

/**
 * The environment the vectorizer contender runs with: its defaults on a host with `threads` cores
 * (up to two sessions sharing them), so it uses no more threads than the other contenders.
 */
export function vectorizerEnv(spec: Pick<BenchSpec, 'type' | 'modelDir' | 'modelFile' | 'threads'>): Record<string, string> {
  const sessions = Math.min(2, spec.threads);
  return {
    MODEL_ID: `bench/${spec.type}`,
    MODEL_DIR: spec.modelDir,
    MODEL_FILE: spec.modelFile,
    MODEL_TYPE: spec.type,
    ORT_SESSIONS: String(sessions),
    ORT_INTRA_OP_THREADS: String(Math.max(1, Math.floor(spec.threads / sessions))),
    MAX_INPUTS: '100000',
  };
}
const base64 = (items: Item[]) => (items as Uint8Array[]).map((bytes) => Buffer.from(bytes).toString('base64'));

/**
 * This project, through the invoke handler's own code path (schema, engine, response).
 * @param sessionThread false measures the model run on the main thread (ORT_SESSION_THREAD=false).
 */
/** One session with every thread, the project's setting before session pools. */
const oneSessionEnv = (spec: Pick<BenchSpec, 'threads'>) => ({ ORT_SESSIONS: '1', ORT_INTRA_OP_THREADS: String(spec.threads) });

async function vectorizer(spec: BenchSpec, sessionThread = true, env: Record<string, string> = {}): Promise<Contender> {
  // In the order of functions/invoke.ts: the model starts loading, then the request path is imported.
  const { loadConfig } = await import('../shared/config.ts');
  const { createServices } = await import('../shared/services.ts');
  const creating = createServices(
    loadConfig({ ...vectorizerEnv(spec), ...(sessionThread ? {} : { ...oneSessionEnv(spec), ORT_SESSION_THREAD: 'false' }), ...env }),
  );
  const { handleInvokeEvent } = await import('../shared/request/invoke-event.ts');
  const runtime = await creating;
  const payload = (items: Item[]) =>
    spec.type === 'image'
      ? { images: base64(items).map((data) => ({ base64: data })) }
      : spec.type === 'rerank'
        ? { query: spec.query, documents: texts(items) }
        : { messages: texts(items) };
  return {
    async run(items) {
      await handleInvokeEvent(payload(items), runtime);
    },
  };
}

/** How the floor cuts its items: length-sorted batches of a fixed size, or this project's own plan. */
type FloorBatching = number | 'plan';

/**
 * The floor: onnxruntime-node `session.run` on pre-tokenised (or pre-processed) inputs, outputs
 * untouched. Its batching is the best found among length-sorted fixed sizes and this project's own
 * token-budget plan, so no contender wins by batching alone. Everything a contender spends above
 * this is overhead. A process that was not prepared (cold start, peak RSS) runs the same batches
 * as this project.
 */
async function floor(spec: BenchSpec): Promise<Contender> {
  const ort = await import('onnxruntime-node');
  // Only what this model type needs, as the engines do (the image path loads sharp).
  const { TextTokenizer, toBatchTensors } =
    spec.type === 'image' ? ({} as typeof import('../shared/engines/tokenizer.ts')) : await import('../shared/engines/tokenizer.ts');
  const { decodeImage } =
    spec.type === 'image' ? await import('../shared/kinds/image.ts') : ({} as typeof import('../shared/kinds/image.ts'));
  const { parsePreprocessorConfig, preprocessImage } = await import('../shared/math/image-preprocess.ts');
  const session = await ort.InferenceSession.create(join(spec.modelDir, spec.modelFile), {
    graphOptimizationLevel: 'all',
    intraOpNumThreads: spec.threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
  });
  const tokenizer = spec.type === 'image' ? undefined : await TextTokenizer.load(spec.modelDir, 512);
  const preprocessor =
    spec.type === 'image'
      ? parsePreprocessorConfig(JSON.parse(await readFile(join(spec.modelDir, 'preprocessor_config.json'), 'utf8')))
      : undefined;
  const encodings = new Map<Item, Encoding>();
  const pixels = new Map<Item, Float32Array>();
  let batching: FloorBatching = 'plan';

  async function encode(items: Item[]): Promise<void> {
    for (const item of items) {
      if (encodings.has(item) || pixels.has(item)) continue;
      if (spec.type === 'image') pixels.set(item, preprocessImage(await decodeImage(item as Uint8Array, 0), preprocessor!).pixels);
      else if (spec.type === 'rerank') encodings.set(item, tokenizer!.encodePair(spec.query, item as string, true));
      else encodings.set(item, tokenizer!.encode(item as string, true));
    }
  }

  /** Item batches: the plan, or fixed sizes over the items sorted longest first. */
  function batchesOf(items: Item[], how: FloorBatching): Item[][] {
    const lengthOf = (item: Item) => (spec.type === 'image' ? 1 : encodings.get(item)!.ids.length);
    if (how === 'plan') return planBatches(items.map(lengthOf), spec.plan).map((indices) => indices.map((index) => items[index]));
    const sorted = [...items].sort((a, b) => lengthOf(b) - lengthOf(a));
    return Array.from({ length: Math.ceil(sorted.length / how) }, (_, index) => sorted.slice(index * how, (index + 1) * how));
  }

  async function runBatches(items: Item[], how: FloorBatching): Promise<void> {
    // Prepared items are pre-tokenised; others (a cold start) are encoded here, inside the timing.
    await encode(items);
    for (const batch of batchesOf(items, how)) {
      if (spec.type === 'image') {
        const plane = pixels.get(batch[0])!.length;
        const data = new Float32Array(batch.length * plane);
        for (const [row, item] of batch.entries()) data.set(pixels.get(item)!, row * plane);
        const side = Math.sqrt(plane / 3);
        await session.run({ [session.inputNames[0]]: new ort.Tensor('float32', data, [batch.length, 3, side, side]) });
        continue;
      }
      const tensors = toBatchTensors(
        batch.map((item) => encodings.get(item)!),
        tokenizer!.padId,
      );
      const feeds: Record<string, Tensor> = {};
      for (const name of session.inputNames) {
        const input = tensors[name as 'input_ids'];
        feeds[name] = new ort.Tensor(input.type, input.data, [...input.dims]);
      }
      await session.run(feeds);
    }
  }

  return {
    async prepare(items) {
      await encode(items);
      let best: { how: FloorBatching; ms: number } = { how: batching, ms: Number.POSITIVE_INFINITY };
      // Each candidate twice, the faster pass kept: the first run of a new batch shape is slower.
      for (const how of ['plan' as const, ...spec.batchSizes.filter((size) => size <= largestBatch(spec.type))]) {
        for (let pass = 0; pass < 2; pass++) {
          const started = performance.now();
          await runBatches(items, how);
          const ms = performance.now() - started;
          if (ms < best.ms) best = { how, ms };
        }
      }
      batching = best.how;
      return batching === 'plan' ? "this project's batch plan" : `batch size ${batching}`;
    },
    run: (items) => runBatches(items, batching),
    // Its fixed throughput batch size would pad a small request into one batch of its longest text
    // (8 texts with a 512-token one: 493 ms against 87 in the plan's batches); the plan cuts by length.
    runSmall: (items) => runBatches(items, 'plan'),
  };
}

/** Most texts the one-call transformers.js contender is given (see its prepare). */
export const ONE_CALL_LIMIT = 96;

/** transformers.js, as its documentation shows it, and in length-sorted batches of the best size. */
async function transformersJs(spec: BenchSpec, batched: boolean): Promise<Contender> {
  const hf = await import('@huggingface/transformers');
  const dtype = spec.modelFile.includes('quantized') ? 'q8' : 'fp32';
  const options = { dtype, local_files_only: true, session_options: { intraOpNumThreads: spec.threads, interOpNumThreads: 1 } } as never;
  let embed: (items: Item[]) => Promise<void>;
  if (spec.type === 'text') {
    const extractor = await hf.pipeline('feature-extraction', spec.modelDir, options);
    embed = async (items) => {
      await extractor(texts(items), { pooling: 'mean', normalize: true });
    };
  } else if (spec.type === 'rerank' || spec.type === 'sparse') {
    const tokenizer = await hf.AutoTokenizer.from_pretrained(spec.modelDir);
    const model =
      spec.type === 'rerank'
        ? await hf.AutoModelForSequenceClassification.from_pretrained(spec.modelDir, options)
        : await hf.AutoModelForMaskedLM.from_pretrained(spec.modelDir, options);
    embed = async (items) => {
      const inputs =
        spec.type === 'rerank'
          ? tokenizer(new Array(items.length).fill(spec.query), { text_pair: texts(items), padding: true, truncation: true })
          : tokenizer(texts(items), { padding: true, truncation: true });
      const { logits } = await model(inputs);
      if (spec.type === 'sparse') {
        // What a user writes for SPLADE on top: max over tokens of log(1 + relu(logit)).
        const [rows, seq, vocab] = logits.dims as number[];
        const data = logits.data as Float32Array;
        const mask = inputs.attention_mask.data as BigInt64Array;
        for (let row = 0; row < rows; row++) {
          const weights = new Float32Array(vocab);
          for (let t = 0; t < seq; t++) {
            if (mask[row * seq + t] === 0n) continue;
            for (let v = 0; v < vocab; v++) weights[v] = Math.max(weights[v], Math.log1p(Math.max(0, data[(row * seq + t) * vocab + v])));
          }
        }
      }
    };
  } else {
    const processor = await hf.AutoProcessor.from_pretrained(spec.modelDir);
    const model = await hf.CLIPVisionModelWithProjection.from_pretrained(spec.modelDir, {
      ...(options as object),
      model_file_name: spec.modelFile.replace(/^onnx\//, '').replace(/(_quantized)?\.onnx$/, ''),
    } as never);
    embed = async (items) => {
      const images = await Promise.all((items as Uint8Array[]).map((bytes) => hf.RawImage.fromBlob(new Blob([bytes]))));
      await model(await processor(images));
    };
  }
  if (!batched) {
    return {
      async prepare(items) {
        // One call pads every text to the longest (512 tokens here) and holds the whole
        // [texts, 512, hidden] output plus attention buffers: about 4 GB at 64 texts, so 300 would
        // not fit beside the other contenders. Reported as not run, with the reason.
        if (items.length > ONE_CALL_LIMIT)
          throw new Error(
            `not run on ${items.length} texts: one call pads all to the longest; measured with --size ${ONE_CALL_LIMIT} or less`,
          );
        return 'all texts in one call';
      },
      run: embed,
    };
  }
  let batchSize = 16;
  const lengthOf = (item: Item) => (typeof item === 'string' ? item.length : 0);
  const runSorted = async (items: Item[], size: number) => {
    const sorted = [...items].sort((a, b) => lengthOf(b) - lengthOf(a));
    for (let start = 0; start < sorted.length; start += size) await embed(sorted.slice(start, start + size));
  };
  return {
    async prepare(items) {
      let best = { size: batchSize, ms: Number.POSITIVE_INFINITY };
      for (const size of spec.batchSizes.filter((size) => size <= Math.min(32, largestBatch(spec.type)))) {
        const started = performance.now();
        await runSorted(items, size);
        const ms = performance.now() - started;
        if (ms < best.ms) best = { size, ms };
      }
      batchSize = best.size;
      return `batch size ${batchSize}`;
    },
    run: (items) => runSorted(items, batchSize),
  };
}

/** fastembed (npm), the seed's own library family, on the same model folder. */
async function fastembed(spec: BenchSpec): Promise<Contender> {
  if (spec.type !== 'text') throw new Error(`fastembed contender covers dense text only, not ${spec.type}`);
  const { EmbeddingModel, FlagEmbedding } = await import('fastembed');
  const model = await FlagEmbedding.init({
    model: EmbeddingModel.CUSTOM,
    modelAbsoluteDirPath: spec.modelDir,
    modelName: spec.modelFile,
    showDownloadProgress: false,
  });
  return {
    async run(items) {
      for await (const batch of model.embed(texts(items), 32)) void batch;
    },
  };
}

/** Contender name -> loader. */
export const CONTENDERS: Readonly<Record<string, (spec: BenchSpec) => Promise<Contender>>> = Object.freeze({
  vectorizer: (spec: BenchSpec) => vectorizer(spec),
  'vectorizer (one session)': (spec: BenchSpec) => vectorizer(spec, true, oneSessionEnv(spec)),
  'vectorizer (main thread)': (spec: BenchSpec) => vectorizer(spec, false),
  'vectorizer (no spinning)': (spec: BenchSpec) => vectorizer(spec, true, { ORT_INTRA_OP_SPINNING: 'false' }),
  floor,
  'transformers.js (one call)': (spec: BenchSpec) => transformersJs(spec, false),
  'transformers.js (batched)': (spec: BenchSpec) => transformersJs(spec, true),
  fastembed,
});

/** Which contenders run for a model type. */
export function contendersFor(type: ModelType): string[] {
  return type === 'text'
    ? Object.keys(CONTENDERS)
    : [
        'vectorizer',
        'vectorizer (one session)',
        'vectorizer (main thread)',
        'vectorizer (no spinning)',
        'floor',
        'transformers.js (batched)',
      ];
}

/** Settings variants of this project that run only when named (--contenders). */
const ON_REQUEST = ['vectorizer (main thread)', 'vectorizer (no spinning)'];

/** Contenders run when none are named. */
export function defaultContenders(type: ModelType): string[] {
  return contendersFor(type).filter((name) => !ON_REQUEST.includes(name));
}
