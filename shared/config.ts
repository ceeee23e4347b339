import { homedir } from 'node:os';
import { join } from 'node:path';
import { ConfigurationError } from './errors.ts';
import { MODEL_TYPES, type ModelType } from './models/types.ts';

/** Everything the product reads from the environment, read once at the entry point. */
export interface Config {
  readonly model: ModelConfig;
  readonly limits: Limits;
  readonly runtime: RuntimeConfig;
  readonly s3: S3Config;
  readonly pipeline: PipelineConfig;
  readonly index: IndexConfig;
  readonly metrics: MetricsConfig;
  readonly api: ApiConfig;
  readonly tracing: TracingConfig;
}

/** X-Ray tracing (Powertools Tracer): `POWERTOOLS_TRACE_ENABLED=true` (default off here; the deploy's `tracing` param). */
export interface TracingConfig {
  readonly enabled: boolean;
}

/** Who may call the HTTP routes (Function URL without IAM, API Gateway, the local server). */
export interface ApiConfig {
  /**
   * `API_KEY_SHA256`: SHA-256 digests (hex, comma-separated) of the keys HTTP callers send as
   * `Authorization: Bearer <key>`; empty: no key asked (IAM, or a loopback server, guards the door).
   */
  readonly keySha256: readonly string[];
}

/** CloudWatch metrics (EMF through the logs), on Lambda by default. */
export interface MetricsConfig {
  /** On Lambda unless `POWERTOOLS_METRICS_DISABLED=true`; elsewhere only with `POWERTOOLS_METRICS_DISABLED=false`. */
  readonly enabled: boolean;
  /** `POWERTOOLS_METRICS_NAMESPACE`, default `ServerlessVectorizer`. */
  readonly namespace: string;
  /** `MAX_RECEIVE_COUNT`: the queue's redrive limit; a failure on that receive is a move to the DLQ. */
  readonly maxReceiveCount?: number;
}

/** Where the vectors are kept searchable, besides the sidecar documents. */
export const INDEX_SINKS = ['none', 'lancedb', 's3vectors', 'auto'] as const;
/** `ORT_INT8_WEIGHTS`: `auto` (per CPU: see int8-kernels.ts), `exported` (the file as it is), `signed`, `unsigned`. */
export const INT8_WEIGHTS = ['auto', 'exported', 'signed', 'unsigned'] as const;
export type Int8Weights = (typeof INT8_WEIGHTS)[number];
export type IndexSinkName = (typeof INDEX_SINKS)[number];

export interface IndexConfig {
  /** `INDEX_SINK`: `none` (sidecars only), `lancedb`, `s3vectors`, or `auto` (lancedb for dense models, none for the others; the local stack's default). */
  readonly sink: IndexSinkName;
  /** `INDEX_URI`: LanceDB's database, a folder or `s3://bucket/prefix`; default the user cache's index folder. */
  readonly uri: string;
  /** `INDEX_NAME`: the table (LanceDB) or index (S3 Vectors); default derived from the model id. */
  readonly name?: string;
  /** `S3VECTORS_BUCKET`: the vector bucket holding the index (s3vectors). */
  readonly vectorBucket?: string;
  /** `AWS_ENDPOINT_URL_S3VECTORS`: an S3 Vectors stand-in (tests); unset means AWS. */
  readonly s3VectorsEndpoint?: string;
}

/** How the worker names and places what it writes. */
export interface PipelineConfig {
  /** `OUTPUT_SUFFIX`: appended to the source key for the vectors document. */
  readonly outputSuffix: string;
  /** `ERROR_SUFFIX`: appended to the source key for the error record. */
  readonly errorSuffix: string;
  /** `OUTPUT_BUCKET`: where outputs go; unset means the source's own bucket. */
  readonly outputBucket?: string;
  /** `OUTPUT_PREFIX`: put in front of output and error keys. */
  readonly outputPrefix: string;
  /** `RESULTS_BUCKET`: where job messages without `save_to_s3` write; unset means OUTPUT_BUCKET. */
  readonly resultsBucket?: string;
  /** `RESULTS_PREFIX`: key prefix of job results, which are named by the SQS message id. */
  readonly resultsPrefix: string;
  /** `CHUNK_OVERLAP_TOKENS`: tokens repeated between consecutive chunks of a long text. */
  readonly chunkOverlapTokens: number;
  /** `CHUNK_MAX_TOKENS`: content tokens per chunk; unset means the model's limit. */
  readonly chunkMaxTokens?: number;
  /**
   * `PART_TOKENS`: a text document of more content tokens is embedded in parts of about this many,
   * each its own message on the work queue (several workers share it; each part continues itself
   * when its invocation's time runs out). Default 32768.
   */
  readonly partTokens: number;
  /** `WORK_QUEUE_URL`: the worker's own queue, where parts and continuations go; unset embeds every document in one piece. */
  readonly workQueueUrl?: string;
  /** `AWS_ENDPOINT_URL_SQS` (or `AWS_ENDPOINT_URL`): an SQS emulator's endpoint. */
  readonly sqsEndpoint?: string;
  /**
   * `CSV_TEXT_COLUMN`: the header of the column whose value is a CSV/TSV row's text; unset means
   * every column, as `header: value` lines.
   */
  readonly csvTextColumn?: string;
}

export interface ModelConfig {
  /** `MODEL_ID`: a catalog id, or any id when `MODEL_DIR` holds the files. */
  readonly id: string;
  /** `MODEL_DIR`: a folder in the Hugging Face layout; unset means resolve from the cache / hub. */
  readonly dir?: string;
  /** `MODEL_FILE`: the ONNX file inside the folder; unset means the catalog's default. */
  readonly file?: string;
  /** `MODEL_TYPE`: override of the type the catalog or config.json gives. */
  readonly type?: ModelType;
  /** `MODEL_CACHE_DIR`: where downloaded models live. */
  readonly cacheDir: string;
  /** `MODEL_DOWNLOAD` (`true`/`false`): may a missing model be fetched from the hub. */
  readonly allowDownload: boolean;
  /** `HF_ENDPOINT`: the hub to download from (a mirror, or a local server in tests). */
  readonly hubUrl: string;
  /** `MODEL_REVISION`: the hub revision (branch, tag or commit). */
  readonly revision: string;
}

export interface Limits {
  /** `MAX_BATCH_TOKENS`: padded tokens (batch size x longest input) in model runs at once (shared by the sessions). */
  readonly maxBatchTokens: number;
  /** `MAX_BATCH_IMAGES`: images in model runs at once (shared by the sessions). */
  readonly maxBatchImages: number;
  /**
   * `BATCH_INVARIANT`: every input in a model run of its own, so its vector does not depend on the
   * other inputs of the request (dynamic int8 models quantise activations per run, padding included).
   */
  readonly batchInvariant: boolean;
  /** `MAX_INPUTS`: texts, images or documents in one request. */
  readonly maxInputs: number;
  /** `MAX_INPUT_BYTES`: largest request body / S3 object the handler will read. */
  readonly maxInputBytes: number;
}

export interface RuntimeConfig {
  /**
   * `ORT_SESSIONS`: model sessions per process, each on its own thread, running batches side by
   * side. Unset: chosen from the cores and the model's size (see resolveSessionOptions).
   */
  readonly sessions?: number;
  /** `ORT_INTRA_OP_THREADS`: threads ONNX Runtime uses inside one operator, per session. Unset: the cores shared out. */
  readonly intraOpThreads?: number;
  /** `ORT_SESSION_THREAD`: run the model on a worker thread so I/O and preparation overlap it. */
  readonly thread: boolean;
  /** `ORT_INTRA_OP_SPINNING`: let ONNX Runtime's idle intra-op threads spin-wait for work. */
  readonly spinning: boolean;
  /**
   * `ORT_WIDE_SESSION`: beside a pool, one more session with every core for requests of one input.
   * Unset: for models up to 512 MiB (see resolveSessionOptions).
   */
  readonly wide?: boolean;
  /** `ORT_INT8_WEIGHTS`: which storage of an int8 model's weights sessions load (see int8-kernels.ts). */
  readonly int8Weights: Int8Weights;
}

export interface S3Config {
  /** `AWS_ENDPOINT_URL_S3` or `AWS_ENDPOINT_URL`: an S3 emulator (fauxqs, LocalStack); unset means AWS. */
  readonly endpoint?: string;
  /** `OUTPUT_BUCKETS`: comma-separated buckets `save_to_s3` may write to; empty means any. */
  readonly allowedOutputBuckets: readonly string[];
  /** `INPUT_BUCKETS`: comma-separated buckets `s3_file`, `s3_images` and `images[].s3_path` may read; empty means any. */
  readonly allowedInputBuckets: readonly string[];
  /** `S3_FORCE_PATH_STYLE`: needed by emulators such as fauxqs and LocalStack. */
  readonly forcePathStyle: boolean;
  /** `AWS_REGION` (or `AWS_DEFAULT_REGION`); unset leaves it to the SDK's chain. */
  readonly region?: string;
  /** Static keys from `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`; unset leaves it to the SDK's chain (the Lambda role). */
  readonly credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
}

export type Env = Readonly<Record<string, string | undefined>>;

const DEFAULTS = {
  maxBatchTokens: 1024,
  maxBatchImages: 16,
  maxInputs: 2048,
  maxInputBytes: 20 * 1024 * 1024,
  hubUrl: 'https://huggingface.co',
} as const;

function readString(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value ? value : undefined;
}

/** A comma-separated list of bucket names (blanks dropped); empty when unset. */
function bucketList(raw: string | undefined): string[] {
  return (raw ?? '')
    .split(',')
    .map((bucket) => bucket.trim())
    .filter(Boolean);
}

function readKeyDigests(env: Env): string[] {
  const digests = bucketList(readString(env, 'API_KEY_SHA256')).map((digest) => digest.toLowerCase());
  const bad = digests.find((digest) => !/^[0-9a-f]{64}$/.test(digest));
  if (bad !== undefined) {
    throw new ConfigurationError(
      `API_KEY_SHA256 holds ${JSON.stringify(bad)}: expected SHA-256 digests in hex (64 characters each, comma-separated), e.g. the output of \`printf %s "$KEY" | sha256sum\`.`,
    );
  }
  return digests;
}

function readInteger(env: Env, name: string, fallback: number, min = 1): number {
  const raw = readString(env, name);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) {
    throw new ConfigurationError(`${name}=${JSON.stringify(raw)} is not valid: expected an integer >= ${min}.`);
  }
  return value;
}

function readRuntime(env: Env): RuntimeConfig {
  const thread = readBoolean(env, 'ORT_SESSION_THREAD', true);
  const sessions = readString(env, 'ORT_SESSIONS') === undefined ? undefined : readInteger(env, 'ORT_SESSIONS', 1);
  if (sessions !== undefined && sessions > 1 && !thread)
    throw new ConfigurationError(`ORT_SESSIONS=${sessions} needs the session thread: set ORT_SESSION_THREAD=true or ORT_SESSIONS=1.`);
  return {
    ...(sessions === undefined ? {} : { sessions }),
    ...(readString(env, 'ORT_INTRA_OP_THREADS') === undefined ? {} : { intraOpThreads: readInteger(env, 'ORT_INTRA_OP_THREADS', 1) }),
    thread,
    spinning: readBoolean(env, 'ORT_INTRA_OP_SPINNING', true),
    ...(readString(env, 'ORT_WIDE_SESSION') === undefined ? {} : { wide: readBoolean(env, 'ORT_WIDE_SESSION', true) }),
    int8Weights: readInt8Weights(env),
  };
}

function readInt8Weights(env: Env): Int8Weights {
  const raw = readString(env, 'ORT_INT8_WEIGHTS')?.toLowerCase() ?? 'auto';
  if (!(INT8_WEIGHTS as readonly string[]).includes(raw))
    throw new ConfigurationError(`ORT_INT8_WEIGHTS=${JSON.stringify(raw)} is not valid: expected one of ${INT8_WEIGHTS.join(', ')}.`);
  return raw as Int8Weights;
}

function readBoolean(env: Env, name: string, fallback: boolean): boolean {
  const raw = readString(env, name)?.toLowerCase();
  if (raw === undefined) return fallback;
  if (['1', 'true', 'yes', 'on'].includes(raw)) return true;
  if (['0', 'false', 'no', 'off'].includes(raw)) return false;
  throw new ConfigurationError(`${name}=${JSON.stringify(raw)} is not valid: expected true or false.`);
}

function readModelType(env: Env): ModelType | undefined {
  const raw = readString(env, 'MODEL_TYPE');
  if (raw === undefined) return undefined;
  if (!(MODEL_TYPES as readonly string[]).includes(raw)) {
    throw new ConfigurationError(`MODEL_TYPE=${JSON.stringify(raw)} is not valid: expected one of ${MODEL_TYPES.join(', ')}.`);
  }
  return raw as ModelType;
}

function readCredentials(env: Env): S3Config['credentials'] {
  const accessKeyId = readString(env, 'AWS_ACCESS_KEY_ID');
  const secretAccessKey = readString(env, 'AWS_SECRET_ACCESS_KEY');
  if (!accessKeyId || !secretAccessKey) return undefined;
  const sessionToken = readString(env, 'AWS_SESSION_TOKEN');
  return { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) };
}

/** Lambda gives a writable /tmp only; elsewhere the XDG-style user cache is the expected place. */
function defaultCacheDir(env: Env, what: 'models' | 'index'): string {
  if (env.AWS_LAMBDA_FUNCTION_NAME) return `/tmp/serverless-vectorizer/${what}`;
  const base = readString(env, 'XDG_CACHE_HOME') ?? join(homedir(), '.cache');
  return join(base, 'serverless-vectorizer', what);
}

function readIndex(env: Env): IndexConfig {
  const sink = readString(env, 'INDEX_SINK') ?? 'none';
  if (!(INDEX_SINKS as readonly string[]).includes(sink)) {
    throw new ConfigurationError(`INDEX_SINK=${JSON.stringify(sink)} is not valid: expected one of ${INDEX_SINKS.join(', ')}.`);
  }
  const vectorBucket = readString(env, 'S3VECTORS_BUCKET');
  if (sink === 's3vectors' && !vectorBucket) {
    throw new ConfigurationError('INDEX_SINK=s3vectors needs S3VECTORS_BUCKET: the vector bucket that holds the index.');
  }
  const uri = readString(env, 'INDEX_URI') ?? defaultCacheDir(env, 'index');
  if (env.AWS_LAMBDA_FUNCTION_NAME && (sink === 'lancedb' || sink === 'auto') && !uri.startsWith('s3://')) {
    throw new ConfigurationError(
      `INDEX_SINK=${sink} with INDEX_URI=${JSON.stringify(uri)} in a Lambda function: its disk does not outlive the instance. Set INDEX_URI=s3://bucket/prefix, or INDEX_SINK=s3vectors.`,
    );
  }
  return {
    sink: sink as IndexSinkName,
    uri,
    name: readString(env, 'INDEX_NAME'),
    vectorBucket,
    s3VectorsEndpoint: readString(env, 'AWS_ENDPOINT_URL_S3VECTORS'),
  };
}

/**
 * Reads the configuration from an environment. Every problem names the variable, the value and
 * what was expected.
 *
 * @example loadConfig(process.env).model.id // 'Xenova/bge-small-en-v1.5'
 */
export function loadConfig(env: Env, defaults: { modelId?: string } = {}): Config {
  const id = readString(env, 'MODEL_ID') ?? defaults.modelId;
  if (!id) {
    throw new ConfigurationError(
      'MODEL_ID is not set: expected a model id such as Xenova/bge-small-en-v1.5 (see `vectorizer list-models`).',
    );
  }
  const outputBuckets = readString(env, 'OUTPUT_BUCKETS');
  return {
    model: {
      id,
      dir: readString(env, 'MODEL_DIR'),
      file: readString(env, 'MODEL_FILE'),
      type: readModelType(env),
      cacheDir: readString(env, 'MODEL_CACHE_DIR') ?? defaultCacheDir(env, 'models'),
      allowDownload: readBoolean(env, 'MODEL_DOWNLOAD', true),
      hubUrl: readString(env, 'HF_ENDPOINT') ?? DEFAULTS.hubUrl,
      revision: readString(env, 'MODEL_REVISION') ?? 'main',
    },
    limits: {
      maxBatchTokens: readInteger(env, 'MAX_BATCH_TOKENS', DEFAULTS.maxBatchTokens),
      maxBatchImages: readInteger(env, 'MAX_BATCH_IMAGES', DEFAULTS.maxBatchImages),
      batchInvariant: readBoolean(env, 'BATCH_INVARIANT', false),
      maxInputs: readInteger(env, 'MAX_INPUTS', DEFAULTS.maxInputs),
      maxInputBytes: readInteger(env, 'MAX_INPUT_BYTES', DEFAULTS.maxInputBytes),
    },
    runtime: readRuntime(env),
    s3: {
      endpoint: readString(env, 'AWS_ENDPOINT_URL_S3') ?? readString(env, 'AWS_ENDPOINT_URL'),
      allowedOutputBuckets: bucketList(outputBuckets),
      allowedInputBuckets: bucketList(readString(env, 'INPUT_BUCKETS')),
      forcePathStyle: readBoolean(env, 'S3_FORCE_PATH_STYLE', Boolean(env.AWS_ENDPOINT_URL || env.AWS_ENDPOINT_URL_S3)),
      region: readString(env, 'AWS_REGION') ?? readString(env, 'AWS_DEFAULT_REGION'),
      credentials: readCredentials(env),
    },
    pipeline: {
      outputSuffix: readString(env, 'OUTPUT_SUFFIX') ?? '.vectors.json',
      errorSuffix: readString(env, 'ERROR_SUFFIX') ?? '.error.json',
      outputBucket: readString(env, 'OUTPUT_BUCKET'),
      outputPrefix: readString(env, 'OUTPUT_PREFIX') ?? '',
      resultsBucket: readString(env, 'RESULTS_BUCKET') ?? readString(env, 'OUTPUT_BUCKET'),
      resultsPrefix: readString(env, 'RESULTS_PREFIX') ?? 'vectorizer-results/',
      chunkOverlapTokens: readInteger(env, 'CHUNK_OVERLAP_TOKENS', 32, 0),
      chunkMaxTokens: readString(env, 'CHUNK_MAX_TOKENS') ? readInteger(env, 'CHUNK_MAX_TOKENS', 0, 8) : undefined,
      partTokens: readInteger(env, 'PART_TOKENS', 32768, 16),
      workQueueUrl: readString(env, 'WORK_QUEUE_URL'),
      sqsEndpoint: readString(env, 'AWS_ENDPOINT_URL_SQS') ?? readString(env, 'AWS_ENDPOINT_URL'),
      csvTextColumn: readString(env, 'CSV_TEXT_COLUMN'),
    },
    index: readIndex(env),
    api: { keySha256: readKeyDigests(env) },
    tracing: { enabled: readBoolean(env, 'POWERTOOLS_TRACE_ENABLED', false) },
    metrics: {
      enabled: readBoolean(env, 'POWERTOOLS_METRICS_DISABLED', !env.AWS_LAMBDA_FUNCTION_NAME) === false,
      namespace: readString(env, 'POWERTOOLS_METRICS_NAMESPACE') ?? 'ServerlessVectorizer',
      maxReceiveCount: readString(env, 'MAX_RECEIVE_COUNT') ? readInteger(env, 'MAX_RECEIVE_COUNT', 0, 1) : undefined,
    },
  };
}
