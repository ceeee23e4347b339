/**
 * The cold scenario: one request in a new process, from start to printed result, as a user runs
 * the CLI (`vectorizer invoke --payload FILE` from the clone) and as a new Lambda instance runs
 * its first batch. Contenders: this project's CLI, the floor's own whole process
 * (floor-process.ts) and transformers.js's (transformers-process.ts), each at its best batching
 * (chosen by one untimed process per candidate), then rounds with the order rotated, the ratio
 * per round and the median. Every process's vectors are checked against the floor's.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cosine } from '../shared/math/vector.ts';
import { vectorizerEnv } from './contenders.ts';
import { builtInCorpus } from './corpus.ts';
import { roundRatios, type Spread, spread } from './stats.ts';

export interface WholeProcessOptions {
  readonly modelDir: string;
  readonly modelFile: string;
  readonly threads: number;
  readonly texts: number;
  readonly rounds: number;
  /** The floor's token budget (this project's plan for one session) and the batch sizes tried. */
  readonly floorBudget: number;
  readonly batchSizes: readonly number[];
  readonly progress: (line: string) => void;
}

export interface WholeProcessResult {
  readonly name: string;
  readonly note: string;
  readonly ms?: Spread;
  /** Each round's time, in round order (contenders interleaved within a round). */
  readonly roundMs?: readonly number[];
  readonly peakRssMb?: number;
  /** The floor's time over this contender's, per round, then the median (> 1: faster than the floor). */
  readonly vsFloor?: Spread;
  /** Lowest cosine of a vector against the floor's for the same text. */
  readonly minCosine?: number;
  readonly error?: string;
}

export interface WholeProcessReport {
  readonly modelFile: string;
  readonly texts: number;
  readonly rounds: number;
  readonly results: readonly WholeProcessResult[];
}

interface Run {
  readonly ms: number;
  readonly peakRssKb: number;
  readonly vectors: number[][];
}

const here = fileURLToPath(new URL('.', import.meta.url));
const root = join(here, '..');
const extension = import.meta.url.endsWith('.js') ? 'js' : 'ts';

/** A contender's command line (node arguments after the executable) and environment. */
interface Command {
  readonly args: readonly string[];
  readonly env: Record<string, string>;
}

/** Runs one new process to its exit: wall time, its own peak RSS (peak-rss.ts), its printed vectors. */
function runProcess(command: Command): Promise<Run> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, ['--import', join(here, `peak-rss.${extension}`), ...command.args], {
      cwd: root,
      env: { ...process.env, POWERTOOLS_LOG_LEVEL: 'ERROR', ...command.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => {
      err = (err + chunk).slice(-4000);
    });
    child.on('error', reject);
    child.on('close', (code) => {
      const ms = performance.now() - started;
      if (code !== 0) return reject(new Error(`exit ${code}: ${err.trim().split('\n').slice(-3).join(' ')}`));
      const peak = /peak-rss-kb: (\d+)/.exec(err);
      try {
        const { embeddings } = JSON.parse(Buffer.concat(out).toString('utf8')) as { embeddings: number[][] };
        resolve({ ms, peakRssKb: peak ? Number(peak[1]) : Number.NaN, vectors: embeddings });
      } catch (error) {
        reject(new Error(`its output is not the vectors: ${(error as Error).message}`));
      }
    });
  });
}

const settle = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs the cold scenario; see the module comment. */
export async function runWholeProcessBench(options: WholeProcessOptions): Promise<WholeProcessReport> {
  const work = await mkdtemp(join(tmpdir(), 'vectorizer-cold-'));
  try {
    const payload = join(work, 'payload.json');
    await writeFile(payload, JSON.stringify({ messages: builtInCorpus(options.texts) }));
    const base = { modelDir: options.modelDir, modelFile: options.modelFile, payload, threads: options.threads };
    const floorWith = (batching: number | { maxTokens: number }): Command => ({
      args: [join(here, `floor-process.${extension}`), JSON.stringify({ ...base, batching })],
      env: {},
    });
    const transformersWith = (batching: number): Command => ({
      args: [join(here, `transformers-process.${extension}`), JSON.stringify({ ...base, batching })],
      env: {},
    });
    // The CLI as a user runs it (the one running this benchmark), with its defaults for a host of `threads` cores.
    const cli = /vectorizer\.[jt]s$/.test(process.argv[1] ?? '') ? process.argv[1] : join(root, 'bin', 'vectorizer.ts');
    const vectorizer: Command = {
      args: [cli, 'invoke', '--payload', payload],
      env: vectorizerEnv({ type: 'text', modelDir: options.modelDir, modelFile: options.modelFile, threads: options.threads }),
    };

    /** The fastest of the candidates, one untimed process each. */
    async function best<Batching>(name: string, candidates: readonly Batching[], make: (batching: Batching) => Command) {
      let choice = { batching: candidates[0], ms: Number.POSITIVE_INFINITY };
      for (const batching of candidates) {
        options.progress(`cold: choosing ${name}'s batching: ${JSON.stringify(batching)}`);
        const { ms } = await runProcess(make(batching));
        if (ms < choice.ms) choice = { batching, ms };
      }
      return choice.batching;
    }
    const floorBatching = await best('the floor', [{ maxTokens: options.floorBudget }, ...options.batchSizes], floorWith);
    const transformersBatching = await best(
      'transformers.js',
      options.batchSizes.filter((size) => size <= 32),
      transformersWith,
    );
    const contenders: { name: string; note: string; command: Command }[] = [
      { name: 'vectorizer', note: '`vectorizer invoke --payload`, defaults', command: vectorizer },
      {
        name: 'floor',
        note: typeof floorBatching === 'number' ? `batch size ${floorBatching}` : `token budget ${options.floorBudget}`,
        command: floorWith(floorBatching),
      },
      { name: 'transformers.js', note: `batch size ${transformersBatching}`, command: transformersWith(transformersBatching) },
    ];
    const runs = new Map<string, Run[]>(contenders.map(({ name }) => [name, []]));
    const errors = new Map<string, string>();
    for (let round = 0; round < options.rounds; round++) {
      for (let turn = 0; turn < contenders.length; turn++) {
        const contender = contenders[(turn + round) % contenders.length];
        if (errors.has(contender.name)) continue;
        options.progress(`cold round ${round + 1}/${options.rounds}: ${contender.name}`);
        // A process still freeing its memory would slow the next one's start.
        await settle(300);
        try {
          runs.get(contender.name)?.push(await runProcess(contender.command));
        } catch (error) {
          errors.set(contender.name, (error as Error).message);
        }
      }
    }
    const floorRuns = runs.get('floor') ?? [];
    const complete = (list: Run[]) => list.length === options.rounds;
    return {
      modelFile: options.modelFile,
      texts: options.texts,
      rounds: options.rounds,
      results: contenders.map(({ name, note }) => {
        const list = runs.get(name) ?? [];
        const error = errors.get(name);
        if (!complete(list)) return { name, note, error: error ?? 'not run' };
        const reference = floorRuns[0]?.vectors;
        const cosines = reference ? list[0].vectors.map((vector, index) => cosine(vector, reference[index])) : [];
        const peaks = list.map((run) => run.peakRssKb).filter(Number.isFinite);
        return {
          name,
          note,
          ms: spread(list.map((run) => run.ms)),
          roundMs: list.map((run) => run.ms),
          peakRssMb: peaks.length ? Math.max(...peaks) / 1024 : undefined,
          vsFloor: complete(floorRuns)
            ? roundRatios(
                list.map((run) => run.ms),
                floorRuns.map((run) => run.ms),
              )
            : undefined,
          minCosine: cosines.length === options.texts ? Math.min(...cosines) : undefined,
        };
      }),
    };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** The results as a Markdown table. Pure. */
export function wholeProcessTable(report: WholeProcessReport): string {
  const cell = (value: Spread | undefined, digits: number, scale = 1) =>
    value
      ? `${(value.median / scale).toFixed(digits)} (${(value.min / scale).toFixed(digits)}-${(value.max / scale).toFixed(digits)})`
      : '-';
  return [
    `**cold, whole process** — ${report.modelFile}, ${report.texts} mixed texts in one request, new process to printed result, ${report.rounds} rounds`,
    '',
    '| contender | seconds median (min-max) | vs floor | peak RSS (MB) | lowest cosine vs floor | note |',
    '|---|---|---|---|---|---|',
    ...report.results.map((result) =>
      result.error
        ? `| ${result.name} | failed: ${result.error.replaceAll('|', '/').slice(0, 160)} | | | | ${result.note} |`
        : `| ${result.name} | ${cell(result.ms, 2, 1000)} | ${result.vsFloor ? `${result.vsFloor.median.toFixed(2)}x` : '-'} | ${result.peakRssMb?.toFixed(0) ?? '-'} | ${result.minCosine?.toFixed(5) ?? '-'} | ${result.note} |`,
    ),
  ].join('\n');
}
