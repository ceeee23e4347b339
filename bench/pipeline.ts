/**
 * The end-to-end pipeline of the benchmark: files/s from upload to `.vectors.json` on the local
 * stack (emulator, notification bridge, event source mapping, worker), beside the engine alone on
 * the same chunks, rounds interleaved.
 */
import { fork } from 'node:child_process';
import type { Resources } from '../local/resources.ts';
import { startLocalStack } from '../local/stack.ts';
import type { TextEngine } from '../shared/kinds/text.ts';
import { chunkText } from '../shared/pipeline/chunking.ts';
import type { AwsReply, AwsRequest } from './aws-process.ts';
import { benchEntry } from './build.ts';
import { vectorizerEnv } from './contenders.ts';
import { builtInCorpus } from './corpus.ts';
import { roundRatios, type Spread, spread } from './stats.ts';

export interface PipelineScenarioResult {
  readonly scenario: string;
  readonly files: number;
  readonly chunks: number;
  readonly filesPerSecond: Spread;
  readonly engineChunksPerSecond: Spread;
  /** Pipeline speed over the engine alone, in chunks per second, per round. */
  readonly vsEngine: Spread;
  /**
   * CPU time of the worker's process (every thread: event source, handler, S3 client, model) per
   * file, median of the rounds: the pipeline's beside the engine's alone on the same chunks. Their
   * difference is what the worker's S3/SQS traffic costs it (the emulator runs elsewhere).
   */
  readonly cpuMsPerFile: { readonly pipeline: number; readonly engine: number; readonly emulator: number };
  /** S3 requests the worker sent per file (median of the rounds), in total and by command. */
  readonly s3CallsPerFile: { readonly total: number; readonly byCommand: Readonly<Record<string, number>> };
}

/**
 * Counts the S3 requests sent through a client, by command (`GetObject`, `PutObject`...). The
 * worker's client is the services' own; only its `send` is wrapped.
 */
export function countS3Calls(client: { send: (command: object, options?: unknown) => Promise<unknown> }) {
  const calls = new Map<string, number>();
  const send = client.send.bind(client);
  client.send = (command, options) => {
    const name = command.constructor.name.replace(/Command$/, '');
    calls.set(name, (calls.get(name) ?? 0) + 1);
    return send(command, options);
  };
  return {
    take(): Map<string, number> {
      const taken = new Map(calls);
      calls.clear();
      return taken;
    },
  };
}

const cpuMs = (since: NodeJS.CpuUsage) => {
  const used = process.cpuUsage(since);
  return (used.user + used.system) / 1000;
};

/** Runs the small-files and long-documents scenarios on a dense text model folder. */
export async function runPipelineBench(options: {
  modelDir: string;
  modelFile: string;
  threads: number;
  rounds: number;
  smallFiles: number;
  longFiles: number;
  progress: (line: string) => void;
}): Promise<PipelineScenarioResult[]> {
  const resources: Resources = {
    buckets: ['bench-input'],
    queues: [
      { name: 'bench-jobs-dlq' },
      { name: 'bench-jobs', visibilityTimeoutSeconds: 300, deadLetterQueue: 'bench-jobs-dlq', maxReceiveCount: 3 },
    ],
    notifications: [{ bucket: 'bench-input', queue: 'bench-jobs', prefix: '', suffixes: ['.txt'] }],
    // A Lambda event source can fill batches of up to 10,000 records; 100 lets the worker share batches widely.
    worker: { queue: 'bench-jobs', batchSize: 100, maximumBatchingWindowSeconds: 0.5 },
  };
  // The emulator, its notifications and the uploads run in a process of their own (as S3, SQS and
  // the user are not in the Lambda); this process is the worker's, as on Lambda.
  const entry = await benchEntry('aws-process', options.progress);
  const awsProcess = fork(entry, [JSON.stringify(resources)], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  let replied: ((reply: AwsReply) => void) | undefined;
  awsProcess.on('message', (reply: AwsReply) => replied?.(reply));
  // A process that dies fails the request it was answering instead of leaving it waiting.
  awsProcess.once('exit', (code, signal) => replied?.({ kind: 'failed', error: `the emulator process exited (${signal ?? code})` }));
  const next = () => new Promise<AwsReply>((resolve) => (replied = resolve));
  const ask = (request: AwsRequest) => {
    const reply = next();
    awsProcess.send(request);
    return reply;
  };
  const ready = await next();
  if (ready.kind !== 'ready') throw new Error(`the emulator process did not start: ${ready.kind === 'failed' ? ready.error : ready.kind}`);
  const stack = await startLocalStack({
    env: {
      ...vectorizerEnv({ type: 'text', modelDir: options.modelDir, modelFile: options.modelFile, threads: options.threads }),
      POWERTOOLS_LOG_LEVEL: 'ERROR',
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
    },
    resources,
    awsPort: 0,
    invokePort: 0,
    externalEndpoint: ready.endpoint,
    pollWaitSeconds: 1,
  }).catch((error: unknown) => {
    awsProcess.kill();
    throw error;
  });
  const engine = stack.services.engine as TextEngine;
  const s3Calls = countS3Calls(stack.services.s3 as unknown as { send: (command: object, options?: unknown) => Promise<unknown> });
  // About two texts in three of the corpus are short (queries, sentences); one in ten is a document.
  const corpus = builtInCorpus(Math.ceil(options.smallFiles * 1.6) + options.longFiles * 40, 7);
  const scenarios = [
    { scenario: 'small files (one text each)', texts: corpus.filter((text) => text.split(' ').length < 40).slice(0, options.smallFiles) },
    // Long documents: several corpus documents joined, a few thousand words each.
    {
      scenario: 'long documents (chunked)',
      texts: Array.from({ length: options.longFiles }, (_, index) =>
        corpus
          .filter((text) => text.split(' ').length > 400)
          .slice(index * 3, index * 3 + 3)
          .join('\n\n'),
      ),
    },
  ];
  const results: PipelineScenarioResult[] = [];
  try {
    for (const { scenario, texts } of scenarios) {
      const chunks = texts.flatMap((text) =>
        chunkText(text, (piece) => engine.tokens.countContentTokens(piece), {
          maxTokens: engine.tokens.maxContentTokens,
          overlapTokens: stack.services.config.pipeline.chunkOverlapTokens,
        }).map((chunk) => text.slice(chunk.start, chunk.end)),
      );
      await engine.embed(chunks, { truncate: true, inputType: 'passage' }); // warm-up
      const pipelineMs: number[] = [];
      const engineMs: number[] = [];
      const pipelineCpu: number[] = [];
      const emulatorCpu: number[] = [];
      const engineCpu: number[] = [];
      const calls: Map<string, number>[] = [];
      for (let round = 0; round < options.rounds; round++) {
        options.progress(`pipeline ${scenario}: round ${round + 1}/${options.rounds}`);
        const prefix = `${scenario.split(' ')[0]}-${round}/`;
        s3Calls.take();
        const started = performance.now();
        const cpuStarted = process.cpuUsage();
        const dropped = await ask({ cmd: 'drop', bucket: 'bench-input', prefix, texts });
        if (dropped.kind !== 'dropped') throw new Error(`the drop failed: ${dropped.kind === 'failed' ? dropped.error : dropped.kind}`);
        pipelineMs.push(performance.now() - started);
        pipelineCpu.push(cpuMs(cpuStarted) / texts.length);
        calls.push(s3Calls.take());
        emulatorCpu.push(dropped.cpuMs / texts.length);
        const engineStarted = performance.now();
        const engineCpuStarted = process.cpuUsage();
        await engine.embed(chunks, { truncate: true, inputType: 'passage' });
        engineMs.push(performance.now() - engineStarted);
        engineCpu.push(cpuMs(engineCpuStarted) / texts.length);
      }
      results.push({
        scenario,
        files: texts.length,
        chunks: chunks.length,
        filesPerSecond: spread(pipelineMs.map((ms) => (texts.length * 1000) / ms)),
        engineChunksPerSecond: spread(engineMs.map((ms) => (chunks.length * 1000) / ms)),
        vsEngine: roundRatios(pipelineMs, engineMs),
        cpuMsPerFile: { pipeline: spread(pipelineCpu).median, engine: spread(engineCpu).median, emulator: spread(emulatorCpu).median },
        s3CallsPerFile: {
          total: spread(calls.map((round) => [...round.values()].reduce((sum, count) => sum + count, 0) / texts.length)).median,
          byCommand: Object.fromEntries(
            [...new Set(calls.flatMap((round) => [...round.keys()]))].map((name) => [
              name,
              spread(calls.map((round) => (round.get(name) ?? 0) / texts.length)).median,
            ]),
          ),
        },
      });
    }
  } finally {
    await stack.stop();
    if (awsProcess.exitCode === null && awsProcess.signalCode === null) {
      const exited = new Promise((resolve) => awsProcess.once('exit', resolve));
      if (awsProcess.connected) awsProcess.send({ cmd: 'exit' } satisfies AwsRequest);
      setTimeout(() => awsProcess.kill('SIGKILL'), 2000).unref();
      await exited;
    }
  }
  return results;
}

/**
 * On paper, the worker without the emulator beside it (on Lambda): bound by its own CPU per file on
 * `cores`, against the engine alone's CPU per file on the same cores. Pure.
 */
export function workerOnPaper(result: PipelineScenarioResult, cores: number): { filesPerSecond: number; vsEngine: number } {
  return {
    filesPerSecond: (cores * 1000) / result.cpuMsPerFile.pipeline,
    vsEngine: result.cpuMsPerFile.engine / result.cpuMsPerFile.pipeline,
  };
}

export function pipelineTable(results: readonly PipelineScenarioResult[], cores = 2): string {
  const f = (value: Spread) => `${value.median.toFixed(1)} (${value.min.toFixed(1)}-${value.max.toFixed(1)})`;
  const calls = (r: PipelineScenarioResult) =>
    `${r.s3CallsPerFile.total.toFixed(2)} (${Object.entries(r.s3CallsPerFile.byCommand)
      .map(([name, count]) => `${name} ${count.toFixed(2)}`)
      .join(', ')})`;
  return [
    '**pipeline** — upload to `.vectors.json` on the local stack (worker batch 100, window 0.5 s; emulator, notifications and uploads in a process of their own) vs the engine alone on the same chunks',
    '',
    `| scenario | files | chunks | pipeline files/s | engine alone chunks/s | pipeline / engine (chunks/s) | CPU ms per file: worker / engine alone / emulator and uploads | worker's S3 calls per file | on paper, the worker alone on ${cores} cores: files/s, vs engine |`,
    '|---|---|---|---|---|---|---|---|---|',
    ...results.map((r) => {
      const paper = workerOnPaper(r, cores);
      return `| ${r.scenario} | ${r.files} | ${r.chunks} | ${f(r.filesPerSecond)} | ${f(r.engineChunksPerSecond)} | ${r.vsEngine.median.toFixed(2)}x | ${r.cpuMsPerFile.pipeline.toFixed(1)} / ${r.cpuMsPerFile.engine.toFixed(1)} / ${r.cpuMsPerFile.emulator.toFixed(1)} | ${calls(r)} | ${paper.filesPerSecond.toFixed(0)}, ${paper.vsEngine.toFixed(2)}x |`;
    }),
  ].join('\n');
}
