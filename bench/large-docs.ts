/**
 * `vectorizer bench --large-docs`: the acceptance scenario of large documents on the local stack
 * as users run it (`vectorizer start` in a process of its own, 60 s worker budget): a 20 MB .txt,
 * a 50,000-line .jsonl and a 3,000-item .json, optionally killed (SIGKILL) mid-way and started
 * again; then 16 long texts at once. Prints time to each output, chunks per second, the stack's
 * peak RSS, and checks every output against one whole-document chunking.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { appendFileSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { loadConfig } from '../shared/config.ts';
import { cosine } from '../shared/math/vector.ts';
import { readTextDocument } from '../shared/pipeline/documents.ts';
import { vectorsDocumentSchema } from '../shared/pipeline/outputs.ts';
import { chunkDocument, chunkTextOf, itemsByPosition } from '../shared/pipeline/text-chunks.ts';
import { createServices, type Services } from '../shared/services.ts';
import { listKeys } from '../shared/storage/s3.ts';
import { builtInCorpus } from './corpus.ts';

const REPO = fileURLToPath(new URL('../', import.meta.url));
const BUCKET = 'bench-large';

export interface LargeDocsOptions {
  readonly modelDir: string;
  readonly modelFile: string;
  /** Seconds after the first upload at which the stack is killed and started again (0: never). */
  readonly killAfterSeconds: number;
  /** 1 is the acceptance size (20 MB, 50,000 lines, 3,000 items); smaller for a quick look. */
  readonly scale: number;
  readonly progress: (line: string) => void;
}

/** Text of about `bytes` bytes: the bench corpus's sentences and paragraphs, repeated with a varying seed. */
function textOf(bytes: number, seed: number): string {
  const parts: string[] = [];
  let size = 0;
  for (let round = 0; size < bytes; round++) {
    for (const text of builtInCorpus(500, seed + round)) {
      parts.push(text);
      size += text.length + 2;
      if (size >= bytes) break;
    }
  }
  return parts.join('\n\n');
}

export function largeDocuments(scale: number): Record<string, string> {
  // Lines of up to ~300 characters (a record, a message, a row): 50,000 of them are about 12 MB.
  const lines = builtInCorpus(Math.round(50_000 * scale), 7).map((text) =>
    JSON.stringify({ text: text.slice(0, 300).replace(/\s+\S*$/, '') }),
  );
  return {
    'large/20mb.txt': textOf(Math.round(20 * 1000 * 1000 * scale), 11),
    'large/50k-lines.jsonl': lines.join('\n'),
    'large/3k-items.json': JSON.stringify(builtInCorpus(Math.round(3_000 * scale), 13)),
  };
}

export function longTexts(count: number, bytes: number): Record<string, string> {
  return Object.fromEntries(Array.from({ length: count }, (_, index) => [`long/${index}.txt`, textOf(bytes, 100 + index)]));
}

interface Stack {
  readonly child: ChildProcess;
  readonly endpoint: string;
  /** Highest VmHWM seen of the stack's process (kB), sampled every second. */
  peakKb(): number;
  stop(signal: NodeJS.Signals): Promise<void>;
}

async function startStack(dir: string, options: LargeDocsOptions): Promise<Stack> {
  const child = spawn(
    process.execPath,
    [
      join(REPO, 'bin', 'vectorizer.ts'),
      'start',
      '--aws-port',
      '0',
      '--invoke-port',
      '0',
      '--resources',
      join(dir, 'resources.json'),
      '--data-dir',
      join(dir, 'state'),
    ],
    {
      env: {
        ...process.env,
        MODEL_ID: 'bench/minilm',
        MODEL_DIR: options.modelDir,
        MODEL_FILE: options.modelFile,
        INDEX_SINK: 'none',
        POWERTOOLS_LOG_LEVEL: process.env.STACK_LOG_LEVEL ?? 'WARN',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    },
  );
  let output = '';
  child.stdout?.on('data', (chunk) => (output += chunk));
  child.stderr?.on('data', (chunk) => {
    output += chunk;
    if (process.env.STACK_LOG) appendFileSync(process.env.STACK_LOG, chunk);
    for (const line of String(chunk).split('\n'))
      if (line.includes('"level":"WARN"') || line.includes('"level":"ERROR"')) options.progress(`stack: ${line.slice(0, 300)}`);
  });
  let peak = 0;
  const sampler = setInterval(() => {
    try {
      const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
      peak = Math.max(peak, Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0));
    } catch {
      // exited
    }
  }, 1000);
  const endpoint = await waitFor(async () => /--endpoint-url (http:\/\/127\.0\.0\.1:\d+)/.exec(output)?.[1], 120_000, 'the stack to start');
  return {
    child,
    endpoint,
    peakKb: () => peak,
    async stop(signal) {
      clearInterval(sampler);
      if (!child.pid || child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      process.kill(-child.pid, signal);
      await exited;
    },
  };
}

async function waitFor<T>(check: () => Promise<T | undefined>, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

const keysOf = (s3: S3Client) => listKeys(s3, BUCKET, '');

const s3For = (endpoint: string) =>
  new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });

export interface DocumentResult {
  readonly key: string;
  readonly bytes: number;
  readonly chunks: number;
  readonly tokens: number;
  readonly seconds: number;
  readonly boundariesEqual: boolean;
  readonly minCosine: number;
}

/** Checks an output against the whole-document chunking (exact boundaries) and a sample of vectors embedded here. */
async function check(services: Services, s3: S3Client, key: string, body: string, seconds: number): Promise<DocumentResult> {
  const { documents } = services;
  if (documents.reads !== 'texts') throw new Error('a text model is needed');
  const items = await readTextDocument(key, Buffer.from(body), key, services.model.id);
  const { chunks } = chunkDocument(items, documents.tokens, services.config.pipeline);
  const response = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: `${key}.vectors.json` }));
  const document = vectorsDocumentSchema.parse(JSON.parse(await response.Body!.transformToString()));
  const boundariesEqual =
    document.chunks.length === chunks.length &&
    document.chunks.every(
      (chunk, index) => chunk.item === chunks[index].item && chunk.start === chunks[index].start && chunk.end === chunks[index].end,
    );
  // int8 models quantise activations per batch, so a vector depends a little on its batch-mates: compare by cosine.
  const byItem = itemsByPosition(items);
  const sample = Array.from({ length: Math.min(32, chunks.length) }, (_, index) =>
    Math.floor((index * chunks.length) / Math.min(32, chunks.length)),
  );
  const embedded = await documents.embed(sample.map((index) => chunkTextOf(items, chunks[index], byItem)));
  const minCosine = Math.min(...sample.map((index, at) => cosine(document.chunks[index]?.vector ?? [], embedded[at].vector ?? [])));
  return {
    key,
    bytes: Buffer.byteLength(body),
    chunks: chunks.length,
    tokens: chunks.reduce((sum, chunk) => sum + chunk.tokens, 0),
    seconds,
    boundariesEqual,
    minCosine,
  };
}

/** The engine's own speed on this machine over the documents' chunks (a sample, warm), chunks per second. */
async function engineRate(services: Services, texts: string[]): Promise<number> {
  const documents = services.documents;
  if (documents.reads !== 'texts') throw new Error('a text model is needed');
  await documents.embed(texts.slice(0, 64));
  const started = performance.now();
  await documents.embed(texts);
  return texts.length / ((performance.now() - started) / 1000);
}

async function drop(
  label: string,
  files: Record<string, string>,
  options: LargeDocsOptions,
  services: Services,
): Promise<{ results: DocumentResult[]; peakKb: number; seconds: number; restarts: number }> {
  const dir = await mkdtemp(join(tmpdir(), 'vectorizer-large-'));
  const resources = JSON.parse(readFileSync(join(REPO, 'localstack', 'resources.json'), 'utf8'));
  resources.buckets = [BUCKET];
  resources.notifications[0].bucket = BUCKET;
  await writeFile(join(dir, 'resources.json'), JSON.stringify(resources));
  let stack = await startStack(dir, options);
  let peakKb = 0;
  let restarts = 0;
  try {
    let s3 = s3For(stack.endpoint);
    const started = performance.now();
    // As `aws s3 cp` does: multipart from 8 MB (the emulator refuses single PUTs over 11 MiB).
    for (const [key, body] of Object.entries(files))
      await new Upload({ client: s3, params: { Bucket: BUCKET, Key: key, Body: body } }).done();
    options.progress(
      `${label}: ${Object.keys(files).length} files uploaded (${(Object.values(files).reduce((sum, body) => sum + body.length, 0) / 1e6).toFixed(1)} MB)`,
    );
    const done = new Map<string, number>();
    let killAt = options.killAfterSeconds > 0 ? started + options.killAfterSeconds * 1000 : Number.POSITIVE_INFINITY;
    await waitFor(
      async () => {
        if (performance.now() >= killAt) {
          killAt = Number.POSITIVE_INFINITY;
          peakKb = Math.max(peakKb, stack.peakKb());
          options.progress(
            `${label}: SIGKILL at ${((performance.now() - started) / 1000).toFixed(0)} s (${done.size} of ${Object.keys(files).length} done); starting again`,
          );
          await stack.stop('SIGKILL');
          s3.destroy();
          stack = await startStack(dir, options);
          s3 = s3For(stack.endpoint);
          restarts++;
        }
        const keys = new Set(await keysOf(s3));
        for (const key of Object.keys(files)) {
          if (!done.has(key) && keys.has(`${key}.vectors.json`)) {
            done.set(key, (performance.now() - started) / 1000);
            options.progress(`${label}: ${key} done at ${done.get(key)?.toFixed(0)} s`);
          }
        }
        return done.size === Object.keys(files).length ? true : undefined;
      },
      3 * 3600_000,
      'every output',
    );
    const seconds = (performance.now() - started) / 1000;
    peakKb = Math.max(peakKb, stack.peakKb());
    // The parts go once the output is written (and indexed): give that a moment, then report what stays.
    const leftOver = async () => (await keysOf(s3)).filter((key) => key.includes('.parts/') || key.endsWith('.error.json'));
    const left = await waitFor(async () => ((await leftOver()).length === 0 ? [] : undefined), 30_000, 'the parts to go').catch(leftOver);
    options.progress(`${label}: ${left.length ? `left over: ${left.slice(0, 5).join(', ')}` : 'no parts or error records left over'}`);
    const results: DocumentResult[] = [];
    for (const [key, body] of Object.entries(files)) results.push(await check(services, s3, key, body, done.get(key) ?? Number.NaN));
    s3.destroy();
    await stack.stop('SIGINT');
    return { results, peakKb, seconds, restarts };
  } finally {
    await stack.stop('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  }
}

export async function runLargeDocsBench(options: LargeDocsOptions): Promise<string> {
  const services = await createServices(
    loadConfig({ MODEL_ID: 'bench/minilm', MODEL_DIR: options.modelDir, MODEL_FILE: options.modelFile, INDEX_SINK: 'none' }),
  );
  try {
    const lines: string[] = [];
    const large = largeDocuments(options.scale);
    // The engine alone over a sample of each document's chunks, in this process, before the drop.
    const rates: Record<string, number> = {};
    for (const [key, body] of Object.entries(large)) {
      if (services.documents.reads !== 'texts') throw new Error('a text model is needed');
      const items = await readTextDocument(key, Buffer.from(body), key, services.model.id);
      const { chunks } = chunkDocument(items.slice(0, 2000), services.documents.tokens, services.config.pipeline);
      const byItem = itemsByPosition(items);
      rates[key] = await engineRate(
        services,
        chunks.slice(0, 400).map((chunk) => chunkTextOf(items, chunk, byItem)),
      );
      options.progress(`engine alone on ${key}: ${rates[key].toFixed(1)} chunks/s`);
    }
    const run = await drop('large documents', large, options, services);
    lines.push(
      `Large documents on the local stack (worker budget 60 s, ${options.killAfterSeconds ? `SIGKILL at ${options.killAfterSeconds} s and restart` : 'no kill'}; scale ${options.scale}):`,
      '',
      '| file | bytes | chunks | tokens | done at (s) | chunks/s from upload | engine alone (chunks/s) | boundaries = whole-document chunking | min cosine vs. embedded alone |',
      '|---|---|---|---|---|---|---|---|---|',
      ...run.results.map(
        (result) =>
          `| ${result.key} | ${result.bytes} | ${result.chunks} | ${result.tokens} | ${result.seconds.toFixed(0)} | ${(result.chunks / result.seconds).toFixed(1)} | ${rates[result.key].toFixed(1)} | ${result.boundariesEqual ? 'yes' : 'NO'} | ${result.minCosine.toFixed(5)} |`,
      ),
      '',
      `All three: ${run.seconds.toFixed(0)} s, ${run.results.reduce((sum, result) => sum + result.chunks, 0)} chunks; the engine alone would take ${run.results.reduce((sum, result) => sum + result.chunks / rates[result.key], 0).toFixed(0)} s at the rates above. Peak RSS of the stack process: ${(run.peakKb / 1024).toFixed(0)} MB; restarts: ${run.restarts}.`,
    );
    // The memory scenario runs once, without a kill.
    if (options.killAfterSeconds > 0) return lines.join('\n');
    const long = await drop(
      '16 long texts',
      longTexts(16, Math.round(1_000_000 * options.scale)),
      { ...options, killAfterSeconds: 0 },
      services,
    );
    lines.push(
      '',
      `16 texts of ${Math.round(options.scale * 1000)} KB dropped at once: all done in ${long.seconds.toFixed(0)} s, peak RSS of the stack process ${(long.peakKb / 1024).toFixed(0)} MB; boundaries equal: ${long.results.every((result) => result.boundariesEqual) ? 'all' : 'NOT all'}.`,
    );
    return lines.join('\n');
  } finally {
    await services.dispose();
  }
}
