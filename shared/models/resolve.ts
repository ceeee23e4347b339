import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { ModelConfig } from '../config.ts';
import { ConfigurationError } from '../errors.ts';
import { KINDS } from '../kinds/index.ts';
import { findCatalogEntry } from './catalog.ts';
// The downloader (and the crypto and stream modules it loads) is imported only when a model is fetched.
import type { DownloadManifest, DownloadProgress, DownloadRequest } from './download.ts';
import type { CatalogEntry, ModelSpec, ModelType, Pooling } from './types.ts';

export type { ModelSpec } from './types.ts';

/** Small JSON files, read synchronously: at cold start each async read would wait behind module loading. */
async function readJson(path: string): Promise<Record<string, unknown> | undefined> {
  if (!existsSync(path)) return undefined;
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  } catch (cause) {
    throw new ConfigurationError(`${path} is not valid JSON.`, { cause });
  }
}

/**
 * The model type a Hugging Face config.json describes, from its `architectures`.
 * @example typeFromArchitectures(['BertForMaskedLM']) // 'sparse'
 */
export function typeFromArchitectures(architectures: readonly string[]): ModelType | undefined {
  for (const name of architectures) {
    if (name.endsWith('ForSequenceClassification')) return 'rerank';
    if (name.endsWith('ForMaskedLM')) return 'sparse';
    if (/Vision|ForImageClassification|ResNet|ViT/i.test(name)) return 'image';
    if (/Model$|ForFeatureExtraction$|ForSentenceEmbedding$/.test(name)) return 'text';
  }
  return undefined;
}

function poolingFromSentenceTransformers(pooling: Record<string, unknown> | undefined): Pooling | undefined {
  if (!pooling) return undefined;
  if (pooling.pooling_mode_cls_token === true) return 'cls';
  if (pooling.pooling_mode_mean_tokens === true) return 'mean';
  return undefined;
}

function listOnnxFiles(dir: string): string[] {
  const found: string[] = [];
  const walk = (folder: string, depth: number): void => {
    for (const name of readdirSync(folder)) {
      const path = join(folder, name);
      if (statSync(path).isDirectory()) {
        if (depth < 2) walk(path, depth + 1);
      } else if (name.endsWith('.onnx')) found.push(relative(dir, path));
    }
  };
  walk(dir, 0);
  return found.sort();
}

/** Where a catalog model lives in the cache: the hub layout under `<cache>/<org>/<name>`. */
export function cachedModelDir(cacheDir: string, id: string, revision: string): string {
  return revision === 'main' ? join(cacheDir, id) : join(cacheDir, id, `@${revision}`);
}

function modelFilesPresent(dir: string, entry: CatalogEntry): boolean {
  return [...KINDS[entry.type].requiredFiles, entry.file, ...entry.extraFiles].every((file) => existsSync(join(dir, file)));
}

/**
 * Turns the model configuration into a ModelSpec: finds the folder (MODEL_DIR, else the cache,
 * else a download), checks the files, and decides type, pooling and limits. Every failure names
 * the variable, its value and what was expected.
 */
export async function resolveModel(
  config: ModelConfig,
  options: { onProgress?: (progress: DownloadProgress) => void } = {},
): Promise<ModelSpec> {
  const entry = findCatalogEntry(config.id, config.file, config.type) ?? findCatalogEntry(config.id, undefined, config.type);
  const dir = config.dir ?? (await locateCatalogModel(config, entry, options.onProgress));

  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new ConfigurationError(
      `MODEL_DIR=${JSON.stringify(dir)} does not exist or is not a folder: expected a folder in the Hugging Face layout (config.json, tokenizer.json, onnx/model.onnx).`,
    );
  }
  const modelConfig = await readJson(join(dir, 'config.json'));
  const architectures = Array.isArray(modelConfig?.architectures) ? (modelConfig.architectures as string[]) : [];
  const type = config.type ?? entry?.type ?? typeFromArchitectures(architectures);
  if (!type) {
    throw new ConfigurationError(
      modelConfig
        ? `MODEL_ID=${JSON.stringify(config.id)} is not in the catalog and ${join(dir, 'config.json')} has architectures ${JSON.stringify(architectures)}, which do not tell the model type: set MODEL_TYPE to text, image, sparse or rerank.`
        : `MODEL_ID=${JSON.stringify(config.id)} is not in the catalog and MODEL_DIR=${JSON.stringify(dir)} has no config.json: add config.json or set MODEL_TYPE to text, image, sparse or rerank.`,
    );
  }

  const file = config.file ?? entry?.file ?? 'onnx/model.onnx';
  if (!existsSync(join(dir, file))) {
    const available = listOnnxFiles(dir);
    throw new ConfigurationError(
      `${config.file ? 'MODEL_FILE' : 'the model file'}=${JSON.stringify(file)} was not found in MODEL_DIR=${JSON.stringify(dir)}: ` +
        (available.length ? `set MODEL_FILE to one of ${available.join(', ')}.` : 'expected an ONNX file there (none found).'),
    );
  }
  const kind = KINDS[type];
  const needed = [...kind.requiredFiles, ...(entry && entry.file === file ? entry.extraFiles : [])];
  for (const required of needed) {
    if (required === 'config.json' && !entry) continue; // already handled above for unknown models
    if (!existsSync(join(dir, required))) {
      throw new ConfigurationError(
        `MODEL_DIR=${JSON.stringify(dir)} has no ${required}: ` +
          (entry
            ? `the ${type} model ${entry.id} (${file}) needs ${needed.join(', ')} beside its ONNX file.`
            : `a ${type} model needs ${needed.join(', ')}.`),
        { details: { model_id: config.id, missing: required, expected_files: needed } },
      );
    }
  }

  const tokenizerConfig = await readJson(join(dir, 'tokenizer_config.json'));
  const modelMax = Number(tokenizerConfig?.model_max_length);
  const positions = Number(modelConfig?.max_position_embeddings);
  const limitFromFiles = Math.min(
    Number.isFinite(modelMax) && modelMax > 0 ? modelMax : Number.POSITIVE_INFINITY,
    Number.isFinite(positions) && positions > 0 ? positions : Number.POSITIVE_INFINITY,
  );
  const maxTokens = Math.min(entry?.maxTokens || Number.POSITIVE_INFINITY, limitFromFiles);
  const pooling =
    entry?.pooling ??
    poolingFromSentenceTransformers(await readJson(join(dir, '1_Pooling', 'config.json'))) ??
    (type === 'image' ? 'none' : 'mean');
  const projection = Number(modelConfig?.projection_dim ?? modelConfig?.hidden_size);

  return Object.freeze({
    id: config.id,
    type,
    dir,
    file,
    dimension: entry?.dimension ?? (type === 'text' || type === 'image' ? (Number.isFinite(projection) ? projection : null) : null),
    pooling,
    normalize: entry?.normalize ?? (type === 'text' || type === 'image'),
    maxTokens: Number.isFinite(maxTokens) ? maxTokens : 512,
    prefixes: Object.freeze({ ...(entry?.prefixes ?? {}) }),
    matryoshka: entry?.matryoshka ?? null,
    inputs: entry?.inputs ?? kind.inputs,
    output: entry?.output ?? kind.output,
    sparseHead: type === 'sparse' ? (entry?.sparseHead ?? 'splade') : null,
    fromCatalog: Boolean(entry),
  });
}

async function locateCatalogModel(
  config: ModelConfig,
  entry: CatalogEntry | undefined,
  onProgress: ((progress: DownloadProgress) => void) | undefined,
): Promise<string> {
  if (!entry) {
    throw new ConfigurationError(
      `MODEL_ID=${JSON.stringify(config.id)} is not in the catalog and MODEL_DIR is not set: set MODEL_DIR to a folder holding the model, or pick an id from \`vectorizer list-models\`.`,
    );
  }
  const chosen = config.file ? { ...entry, file: config.file } : entry;
  const dir = cachedModelDir(config.cacheDir, entry.id, config.revision);
  if (modelFilesPresent(dir, chosen)) return dir;
  if (!config.allowDownload) {
    throw new ConfigurationError(
      `MODEL_ID=${JSON.stringify(config.id)} is not in the cache (${dir}) and MODEL_DOWNLOAD=false: set MODEL_DIR to a folder holding the model, or allow the download.`,
    );
  }
  await downloadCatalogModel(chosen, { hubUrl: config.hubUrl, revision: config.revision, dir, onProgress });
  return dir;
}

/**
 * Downloads everything a catalog variant needs (its ONNX file, extra weights, config, tokenizer or
 * preprocessor files) into `dir`. What `vectorizer download` and Dockerfile.variant run.
 */
export async function downloadCatalogModel(
  entry: CatalogEntry,
  options: Pick<DownloadRequest, 'hubUrl' | 'revision' | 'dir' | 'onProgress' | 'expectedSha256'>,
): Promise<DownloadManifest> {
  const { downloadModel } = await import('./download.ts');
  const kind = KINDS[entry.type];
  return downloadModel({
    ...options,
    id: entry.id,
    files: [entry.file, ...entry.extraFiles, ...kind.requiredFiles],
    optionalFiles: kind.optionalFiles,
  });
}
