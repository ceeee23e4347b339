/**
 * `vectorizer bench`: every contender in its own process, the same items and threads, warm-up
 * excluded, contenders interleaved round by round (ratios taken per round, then the median), plus
 * latency, peak RSS and cold start in fresh processes.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { loadConfig } from '../shared/config.ts';
import { batchLimitsFor } from '../shared/engines/batching/run.ts';
import { TextTokenizer } from '../shared/engines/tokenizer.ts';
import type { ModelType } from '../shared/models/types.ts';
import { benchEntry } from './build.ts';
import type { ChildReply, ChildRequest } from './child.ts';
import { type BenchSpec, contendersFor, defaultContenders, type Item, RERANK_QUERY, vectorizerEnv } from './contenders.ts';
import { builtInCorpus } from './corpus.ts';
import { percentile, roundRatios, type Spread, spread } from './stats.ts';

export interface BenchOptions {
  readonly type: ModelType;
  readonly modelDir: string;
  readonly modelFile: string;
  readonly threads: number;
  readonly size: number;
  readonly rounds: number;
  readonly latencyRepeats: number;
  readonly coldStarts: number;
  /** A file of texts (one per line, or a JSON array) instead of the built-in corpus. */
  readonly corpusFile?: string;
  /** A folder of images instead of generated ones. */
  readonly imagesDir?: string;
  readonly contenders?: readonly string[];
  /** Batch sizes the floor and transformers.js try before the timed rounds. */
  readonly batchSizes: readonly number[];
  readonly progress: (line: string) => void;
}

export interface ContenderResult {
  readonly name: string;
  readonly error?: string;
  readonly note?: string;
  readonly loadMs?: number;
  readonly roundMs?: number[];
  readonly itemsPerSecond?: Spread;
  readonly tokensPerSecond?: Spread;
  readonly vsFloor?: Spread;
  readonly vsVectorizer?: Spread;
  readonly latency1?: { p50: number; p95: number };
  readonly latency8?: { p50: number; p95: number };
  readonly latency32?: { p50: number; p95: number };
  readonly peakRssMb?: number;
  readonly coldStartMs?: Spread;
  /** Cold start over the floor's, per repeat (the repeats are interleaved), then the median. */
  readonly coldVsFloor?: Spread;
}

export interface BenchReport {
  readonly type: ModelType;
  readonly modelDir: string;
  readonly modelFile: string;
  readonly items: number;
  readonly tokens?: number;
  readonly threads: number;
  readonly rounds: number;
  readonly results: ContenderResult[];
}

/** A contender process and a typed request/reply channel to it. */
class Child {
  readonly process: ChildProcess;
  private waiting: ((reply: ChildReply) => void) | undefined;
  readonly started = performance.now();
  readonly loaded: Promise<ChildReply>;

  constructor(entry: string, spec: BenchSpec, itemsFile: string) {
    this.process = fork(entry, [JSON.stringify(spec), itemsFile], {
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      env: { ...process.env, POWERTOOLS_LOG_LEVEL: 'ERROR' },
    });
    let stderr = '';
    this.process.stderr?.on('data', (chunk) => (stderr = (stderr + chunk).slice(-2000)));
    // A contender that dies (out of memory, a native crash) fails its pending and later requests.
    this.process.on('error', (error) => this.fail(`process error: ${error.message}`));
    this.process.once('exit', (code, signal) =>
      this.fail(`process exited (${signal ?? code}): ${stderr.trim().split('\n').slice(-3).join(' ')}`),
    );
    this.loaded = new Promise((resolve) => {
      this.waiting = resolve;
    });
    this.process.on('message', (reply: ChildReply) => {
      const waiting = this.waiting;
      this.waiting = undefined;
      waiting?.(reply);
    });
  }

  private failure: string | undefined;

  private fail(reason: string): void {
    this.failure ??= reason;
    const waiting = this.waiting;
    this.waiting = undefined;
    waiting?.({ ok: false, error: this.failure });
  }

  ask(request: ChildRequest): Promise<ChildReply> {
    return new Promise((resolve) => {
      if (this.failure || !this.process.connected) return resolve({ ok: false, error: this.failure ?? 'process is not connected' });
      this.waiting = resolve;
      this.process.send(request, (error) => {
        if (error) this.fail(`could not send: ${error.message}`);
      });
    });
  }

  /** Asks the process to exit (killed after 2 s) and resolves once it has. */
  stop(): Promise<void> {
    if (this.process.exitCode !== null || this.process.signalCode !== null) return Promise.resolve();
    const exited = new Promise<void>((resolve) => this.process.once('exit', () => resolve()));
    if (this.process.connected) this.process.send({ cmd: 'exit' } satisfies ChildRequest);
    setTimeout(() => this.process.kill('SIGKILL'), 2000).unref();
    return exited;
  }
}

async function expect<T extends ChildReply>(reply: Promise<ChildReply>): Promise<T & { ok: true }> {
  const result = await reply;
  if (!result.ok) throw new Error(result.error);
  return result as T & { ok: true };
}

/** Generated test images: several sizes and aspect ratios, like a real folder of photos. */
async function generatedImages(count: number): Promise<Uint8Array[]> {
  const sizes = [
    [640, 480],
    [300, 500],
    [1024, 768],
    [224, 224],
    [800, 600],
  ];
  return Promise.all(
    Array.from({ length: count }, (_, index) => {
      const [width, height] = sizes[index % sizes.length];
      const noise = Buffer.alloc(width * height * 3);
      for (let i = 0; i < noise.length; i++) noise[i] = (i * 2654435761 + index * 97) % 251;
      return sharp(noise, { raw: { width, height, channels: 3 } })
        .jpeg({ quality: 85 })
        .toBuffer();
    }),
  );
}

async function loadItems(options: BenchOptions): Promise<Item[]> {
  if (options.type === 'image') {
    if (!options.imagesDir) return generatedImages(options.size);
    const names = (await readdir(options.imagesDir)).filter((name) => /\.(png|jpe?g|webp|gif|tiff?|avif)$/i.test(name)).sort();
    return Promise.all(names.slice(0, options.size).map((name) => readFile(join(options.imagesDir as string, name))));
  }
  if (!options.corpusFile) return builtInCorpus(options.size);
  const content = await readFile(options.corpusFile, 'utf8');
  const texts = content.trim().startsWith('[') ? (JSON.parse(content) as string[]) : content.split('\n').filter((line) => line.trim());
  return texts.slice(0, options.size);
}

const settle = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const p = (values: number[]) => ({ p50: percentile(values, 50), p95: percentile(values, 95) });

/** Runs the whole benchmark for one model folder; see BenchOptions. */
export async function runBench(options: BenchOptions): Promise<BenchReport> {
  const items = await loadItems(options);
  const entry = await benchEntry('child', options.progress);
  const work = await mkdtemp(join(tmpdir(), 'vectorizer-bench-'));
  const itemsFile = join(work, 'items.json');
  await writeFile(
    itemsFile,
    JSON.stringify(options.type === 'image' ? { images: items.map((bytes) => Buffer.from(bytes).toString('base64')) } : { texts: items }),
  );
  let tokens: number | undefined;
  if (options.type !== 'image') {
    const tokenizer = await TextTokenizer.load(options.modelDir, 512);
    tokens = (items as string[]).reduce(
      (sum, text) =>
        sum + (options.type === 'rerank' ? tokenizer.encodePair(RERANK_QUERY, text, true) : tokenizer.encode(text, true)).ids.length,
      0,
    );
  }
  const names = (options.contenders ?? defaultContenders(options.type)).filter((name) => contendersFor(options.type).includes(name));
  const vectorizerConfig = loadConfig(vectorizerEnv(options));
  const plan = batchLimitsFor(options.type, vectorizerConfig.limits, vectorizerConfig.runtime.sessions);
  const spec = (contender: string): BenchSpec => ({
    contender,
    type: options.type,
    modelDir: options.modelDir,
    modelFile: options.modelFile,
    threads: options.threads,
    query: RERANK_QUERY,
    batchSizes: options.batchSizes,
    plan,
  });
  const results = new Map<
    string,
    {
      error?: string;
      note?: string;
      loadMs?: number;
      roundMs: number[];
      latency1?: number[];
      latency8?: number[];
      latency32?: number[];
      peakRssMb?: number;
      cold: number[];
    }
  >();
  for (const name of names) results.set(name, { roundMs: [], cold: [] });

  if (names.some((name) => name.startsWith('vectorizer'))) {
    // The model folder as the image build leaves it: `vectorizer warmup` saves the optimised graph.
    const { warmupModel } = await import('../shared/cli/warmup.ts');
    const warm = await warmupModel({ ...vectorizerEnv(options), POWERTOOLS_LOG_LEVEL: 'ERROR' });
    options.progress(`vectorizer warmup (as Dockerfile.variant runs it): optimised graph ${warm.optimized_graph}`);
  }
  try {
    // Throughput and latency: one long-lived process per contender, only one busy at a time.
    const children = new Map<string, Child>();
    for (const name of names) {
      options.progress(`loading ${name}`);
      const child = new Child(entry, spec(name), itemsFile);
      const loaded = await child.loaded;
      const result = results.get(name)!;
      if (!loaded.ok) {
        result.error = loaded.error;
        options.progress(`  ${name} failed: ${loaded.error}`);
        void child.stop();
        continue;
      }
      result.loadMs = loaded.loadMs;
      try {
        options.progress(`  preparing ${name} (untimed: pre-tokenising, choosing batch sizes)`);
        result.note = (await expect(child.ask({ cmd: 'prepare' }))).note;
        // Warm-up, excluded: the same for every contender, full passes until the JIT and ONNX
        // Runtime have settled: eight, or as many as fit in 15 s, at least one (after one pass this
        // project's next rounds were still up to 1.5x slower; the floor's batch search had already
        // run it several times). Every contender has also seen every batch shape.
        for (let pass = 0, begun = performance.now(); pass < 8 && (pass === 0 || performance.now() - begun < 15_000); pass++)
          await expect(child.ask({ cmd: 'run', from: 0, to: items.length }));
        children.set(name, child);
      } catch (error) {
        result.error = (error as Error).message;
        void child.stop();
      }
    }
    const live = [...children.keys()];
    // A process that just finished heavy work (a peer's batch-size search, a big run) goes on
    // freeing memory for a while; the first timed run after preparation was 1.5-1.9x slower
    // without this pause. A shorter one separates the timed runs.
    await settle(2000);
    for (let round = 0; round < options.rounds; round++) {
      // Rotate the order each round so no contender always runs first (or right after another).
      const order = live.map((_, index) => live[(index + round) % live.length]);
      // A contender that failed a round is not asked again; it is reported with its error.
      for (const name of order.filter((name) => !results.get(name)!.error)) {
        options.progress(`round ${round + 1}/${options.rounds}: ${name}`);
        await settle(150);
        const reply = await children.get(name)!.ask({ cmd: 'run', from: 0, to: items.length });
        const result = results.get(name)!;
        if (reply.ok && reply.ms !== undefined) result.roundMs.push(reply.ms);
        else if (!reply.ok) {
          result.error = reply.error;
          options.progress(`  ${name} failed: ${reply.error}`);
        }
      }
    }
    for (const name of live.filter((name) => !results.get(name)!.error)) {
      options.progress(`latency: ${name}`);
      const result = results.get(name)!;
      // Warm-up of the small-request path, untimed, for every contender alike: this project opens
      // its wide session (every core, for requests of one input) a second after the first one,
      // which takes up to about a second more for fp32 MiniLM. Then small requests on other items
      // than the timed ones: a session's first runs are slower until its memory arena has grown,
      // and the wide session had run none of the throughput passes that warmed the floor's only
      // session (fp32 MiniLM, one text: p50 1.5x the floor's without this, 1.1x with it).
      await children.get(name)!.ask({ cmd: 'latency', size: 1, repeats: 3 });
      await settle(3000);
      const elsewhere = Math.floor(items.length / 2);
      await children.get(name)!.ask({ cmd: 'latency', size: 1, repeats: 20, offset: elsewhere });
      await children.get(name)!.ask({ cmd: 'latency', size: 8, repeats: 5, offset: elsewhere });
      const one = await children.get(name)!.ask({ cmd: 'latency', size: 1, repeats: options.latencyRepeats });
      const eight = await children.get(name)!.ask({ cmd: 'latency', size: 8, repeats: options.latencyRepeats });
      const many = await children.get(name)!.ask({ cmd: 'latency', size: 32, repeats: Math.max(2, Math.ceil(options.latencyRepeats / 4)) });
      if (one.ok) result.latency1 = one.samples;
      if (eight.ok) result.latency8 = eight.samples;
      if (many.ok) result.latency32 = many.samples;
      await children.get(name)!.stop();
    }

    // Cold start (new process to first 1-item response) and peak RSS of a 64-item request, fresh processes.
    for (let repeat = 0; repeat < options.coldStarts; repeat++) {
      for (const name of live.filter(
        (name) => !results.get(name)!.roundMs.length || results.get(name)!.roundMs.length === options.rounds,
      )) {
        options.progress(`cold start ${repeat + 1}/${options.coldStarts}: ${name}`);
        const child = new Child(entry, spec(name), itemsFile);
        const result = results.get(name)!;
        try {
          await expect(child.loaded);
          await expect(child.ask({ cmd: 'run', from: 0, to: 1 }));
          result.cold.push(performance.now() - child.started);
          if (repeat === 0) {
            await expect(child.ask({ cmd: 'run', from: 0, to: Math.min(64, items.length) }));
            result.peakRssMb = (await expect(child.ask({ cmd: 'rss' }))).maxRssMb;
          }
        } catch (error) {
          result.error ??= (error as Error).message;
        } finally {
          // A process that is still exiting (freeing its memory, ending its threads) would slow the next one's start.
          await child.stop();
          await settle(300);
        }
      }
    }
  } finally {
    await rm(work, { recursive: true, force: true });
  }

  const floorMs = results.get('floor')?.roundMs;
  const floorCold = results.get('floor')?.cold;
  const oursMs = results.get('vectorizer')?.roundMs;
  const comparable = (ms: number[], other?: number[]) => other && other.length === ms.length && ms.length > 0;
  return {
    type: options.type,
    modelDir: options.modelDir,
    modelFile: options.modelFile,
    items: items.length,
    tokens,
    threads: options.threads,
    rounds: options.rounds,
    results: names.map((name) => {
      const r = results.get(name)!;
      const ms = r.roundMs;
      const ok = ms.length === options.rounds;
      return {
        name,
        ...(r.error ? { error: r.error } : {}),
        ...(r.note ? { note: r.note } : {}),
        loadMs: r.loadMs,
        ...(ok
          ? {
              roundMs: ms,
              itemsPerSecond: spread(ms.map((value) => (items.length * 1000) / value)),
              ...(tokens ? { tokensPerSecond: spread(ms.map((value) => (tokens * 1000) / value)) } : {}),
              ...(comparable(ms, floorMs) ? { vsFloor: roundRatios(ms, floorMs as number[]) } : {}),
              ...(comparable(ms, oursMs) ? { vsVectorizer: roundRatios(ms, oursMs as number[]) } : {}),
            }
          : {}),
        ...(r.latency1 ? { latency1: p(r.latency1) } : {}),
        ...(r.latency8 ? { latency8: p(r.latency8) } : {}),
        ...(r.latency32 ? { latency32: p(r.latency32) } : {}),
        ...(r.peakRssMb ? { peakRssMb: r.peakRssMb } : {}),
        ...(r.cold.length ? { coldStartMs: spread(r.cold) } : {}),
        ...(comparable(r.cold, floorCold) ? { coldVsFloor: roundRatios(floorCold as number[], r.cold) } : {}),
      };
    }),
  };
}
