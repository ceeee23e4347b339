import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CliIo } from '../shared/cli/io.ts';
import { parseOptions } from '../shared/cli/options.ts';
import { progressLine } from '../shared/cli/progress.ts';
import { loadConfig } from '../shared/config.ts';
import { describeFailure } from '../shared/errors.ts';
import { indexNameFor } from '../shared/index/keys.ts';
import { KINDS } from '../shared/kinds/index.ts';
import { DEFAULT_MODEL_ID, findCatalogEntry } from '../shared/models/catalog.ts';
import type { DownloadProgress } from '../shared/models/download.ts';
import { cachedModelDir } from '../shared/models/resolve.ts';
import { loadResources } from './resources.ts';
import type { LocalStack } from './stack.ts';
import { type StatusStream, startSummary } from './summary.ts';

const DEFAULT_RESOURCES = fileURLToPath(new URL('../localstack/resources.json', import.meta.url));

/** The user cache's folder for the local stack's emulator state. */
function defaultDataDir(env: CliIo['env']): string {
  return join(env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'serverless-vectorizer', 'local-stack');
}

/** Where the stack keeps its vectors searchable, or how to turn that on. */
function indexLine(stack: LocalStack): string {
  const { index } = stack.services.config;
  if (!stack.services.index) return 'none (INDEX_SINK=none, or a sparse or rerank model)';
  const name = index.name ?? indexNameFor(stack.services.model.id, stack.services.model.file);
  return stack.services.index.name === 'lancedb' ? `LanceDB ${index.uri} (table ${name})` : `S3 Vectors ${index.vectorBucket}/${name}`;
}

/**
 * What to do without internet, said before a download starts (a machine offline may wait a long
 * time for its DNS before the download fails): undefined when nothing is to be downloaded
 * (MODEL_DIR set, the model cached, downloads off, or an id the catalog does not know, whose
 * error says what to set).
 */
export function offlineAdvice(env: CliIo['env']): string | undefined {
  const model = loadConfig(env, { modelId: DEFAULT_MODEL_ID }).model;
  if (model.dir || !model.allowDownload) return undefined;
  const entry = findCatalogEntry(model.id, model.file, model.type) ?? findCatalogEntry(model.id, undefined, model.type);
  if (!entry) return undefined;
  const file = model.file ?? entry.file;
  const cached = cachedModelDir(model.cacheDir, entry.id, model.revision);
  if (existsSync(join(cached, file))) return undefined;
  const files = [...new Set([file, ...entry.extraFiles, ...KINDS[entry.type].requiredFiles])].join(', ');
  return [
    `Model ${entry.id} is not in the cache (${cached}): downloading it from ${model.hubUrl} (HF_ENDPOINT).`,
    'Offline? Ctrl-C, then point MODEL_DIR at a folder holding the model:',
    `    MODEL_DIR=/path/to/folder npm start        (another model: MODEL_ID=its/id MODEL_DIR=/path/to/folder npm start)`,
    `  The folder holds ${files}; on a machine with internet,`,
    `  \`npx vectorizer download --model ${entry.id} --dir /path/to/folder\` makes one (then copy it over).`,
    '',
  ].join('\n');
}

/**
 * fauxqs keeps its state in node:sqlite, whose import warns that SQLite is experimental: a line of
 * noise above the stack's own first lines, which must say what to do (offlineAdvice). The warning
 * is left out while the stack's modules load; any other warning is emitted as usual.
 */
async function loadStackModule(): Promise<typeof import('./stack.ts')> {
  const emitWarning = process.emitWarning;
  process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
    if (String(typeof warning === 'string' ? warning : warning.message).startsWith('SQLite is an experimental feature')) return;
    return (emitWarning as (...args: unknown[]) => void).call(process, warning, ...rest);
  }) as typeof process.emitWarning;
  try {
    return await import('./stack.ts');
  } finally {
    process.emitWarning = emitWarning;
  }
}

/**
 * `vectorizer start`: the whole pipeline on this machine (S3+SQS emulator on :4566, notification
 * bridge, worker, Lambda Invoke API on :9000) until Ctrl-C.
 */
export async function runStart(args: string[], io: CliIo): Promise<number> {
  const values = parseOptions(
    args,
    {
      resources: { type: 'string', default: DEFAULT_RESOURCES },
      'aws-port': { type: 'string', default: io.env.LOCAL_AWS_PORT ?? '4566' },
      // The emulator has no authentication: this machine only, unless exposed on purpose (0.0.0.0).
      'aws-host': { type: 'string', default: io.env.LOCAL_AWS_HOST ?? '127.0.0.1' },
      'invoke-port': { type: 'string', default: io.env.LOCAL_INVOKE_PORT ?? '9000' },
      // LocalStack (localstack/docker-compose.yml) instead of the embedded fauxqs.
      'external-aws': { type: 'string' },
      // Where the emulator keeps objects and messages across restarts, or keep nothing.
      'data-dir': { type: 'string', default: io.env.LOCAL_DATA_DIR ?? defaultDataDir(io.env) },
      ephemeral: { type: 'boolean', default: false },
    },
    io,
  );
  if (!values) return 2;
  let lastFile = '';
  const onProgress = (progress: DownloadProgress) => {
    if (progress.file !== lastFile && lastFile) io.stderr.write('\n');
    lastFile = progress.file;
    io.stderr.write(`\r${progressLine(progress)}${progress.done ? '\n' : ''}`);
    if (progress.done) lastFile = '';
  };
  try {
    const advice = offlineAdvice(io.env);
    if (advice) io.stderr.write(advice);
    const resources = await loadResources(values.resources as string);
    const { startLocalStack } = await loadStackModule();
    const stack = await startLocalStack({
      env: io.env,
      resources,
      awsPort: Number(values['aws-port']),
      awsHost: values['aws-host'] as string,
      invokePort: Number(values['invoke-port']),
      externalEndpoint: values['external-aws'] as string | undefined,
      ...(values.ephemeral ? {} : { dataDir: values['data-dir'] as string }),
      onProgress,
    });
    const worker = resources.worker;
    io.stdout.write(
      [
        'Serverless Vectorizer local stack is up.',
        `  model            ${stack.services.model.id} (${stack.services.model.type}) from ${stack.services.model.dir}`,
        `  S3 + SQS         ${stack.awsEndpoint}   (AWS_ENDPOINT_URL; any credentials)${values['aws-host'] === '127.0.0.1' ? '' : `; listening on ${values['aws-host']}, without authentication`}`,
        `  input bucket     ${resources.buckets.join(', ')}`,
        `  jobs queue       ${worker.queue} (batch ${worker.batchSize}, window ${worker.maximumBatchingWindowSeconds}s) -> DLQ ${resources.queues.find((q) => q.name === worker.queue)?.deadLetterQueue ?? 'none'}`,
        `  invoke endpoint  ${stack.invokeUrl}`,
        `  OpenAI, TEI      ${new URL(stack.invokeUrl).origin}/v1/embeddings   /embed  /embed_sparse  /rerank  (the served model's kind answers)`,
        `  search index     ${indexLine(stack)}`,
        `  emulator state   ${values.ephemeral || values['external-aws'] ? 'kept nowhere (--ephemeral)' : `${values['data-dir']} (objects and messages survive a restart; --ephemeral keeps nothing)`}`,
        '',
        `Try: aws --endpoint-url ${stack.awsEndpoint} s3 cp notes.txt s3://${resources.buckets[0]}/notes.txt`,
        `     curl -s -X POST ${stack.invokeUrl} -d '{"messages": ["Hello world"]}'`,
        `     npx vectorizer ingest ./my-notes            (a folder: uploads, waits for the vectors, sums up)`,
        `     npx vectorizer search "hello"`,
        'Ctrl-C stops everything.',
        '',
      ].join('\n'),
    );
    // While work is pending: files done, errors, the jobs queue, files/s (stderr; quiet when idle).
    const summary = startSummary({ activity: stack.activity, queueDepth: () => stack.queueDepth(), stream: io.stderr as StatusStream });
    await new Promise<void>((resolve) => {
      const stop = () => resolve();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    summary.stop();
    // In-flight work gets no more time: texts store what they embedded and continue after a
    // restart, other records go back to the queue (kept on disk). A second signal stops at once.
    const now = () => process.exit(130);
    process.once('SIGINT', now);
    process.once('SIGTERM', now);
    io.stdout.write('Stopping (in-flight work is stored and continues after a restart; Ctrl-C again to quit at once)...\n');
    await stack.stop();
    io.stdout.write('Stopped.\n');
    return 0;
  } catch (error) {
    io.stderr.write(`vectorizer start: ${describeFailure(error)}\n`);
    return 1;
  }
}
