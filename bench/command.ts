import { mkdir, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import type { CliIo } from '../shared/cli/io.ts';
import { parseOptions } from '../shared/cli/options.ts';
import { loadConfig } from '../shared/config.ts';
import { batchLimitsFor } from '../shared/engines/batching/run.ts';
import { MODEL_TYPES, type ModelType } from '../shared/models/types.ts';
import { checkColdTargets, checkTargets, reportTable, targetsTable } from './report.ts';
import { type BenchReport, runBench } from './run.ts';
import type { WholeProcessReport } from './whole-process.ts';

/** The bench models of ../shared/models (unpacked with unpack-bench.sh) and the type of each. */
const REFERENCE_SET: readonly { dir: string; file: string; type: ModelType }[] = [
  { dir: 'minilm-l6-dense', file: 'onnx/model_quantized.onnx', type: 'text' },
  { dir: 'minilm-l6-dense', file: 'onnx/model.onnx', type: 'text' },
  { dir: 'minilm-l6-cross-encoder', file: 'onnx/model_quantized.onnx', type: 'rerank' },
  { dir: 'bert-base-splade', file: 'onnx/model_quantized.onnx', type: 'sparse' },
  { dir: 'clip-vit-b32-vision', file: 'onnx/model_quantized.onnx', type: 'image' },
];

/**
 * `vectorizer bench [--models DIR | --model-dir DIR --type T --file F] [--size N] [--rounds R] [--quick] [--no-cold]`
 * Prints Markdown tables (contenders, ratios, targets) and writes JSON + Markdown to --out.
 */
export async function runBenchCommand(args: string[], io: CliIo): Promise<number> {
  const values = parseOptions(
    args,
    {
      models: { type: 'string', default: '.cache/bench-models' },
      'model-dir': { type: 'string' },
      type: { type: 'string', default: 'text' },
      file: { type: 'string', default: 'onnx/model_quantized.onnx' },
      size: { type: 'string' },
      rounds: { type: 'string' },
      threads: { type: 'string', default: String(Math.min(2, availableParallelism())) },
      corpus: { type: 'string' },
      images: { type: 'string' },
      contenders: { type: 'string' },
      out: { type: 'string', default: 'bench-results' },
      quick: { type: 'boolean', default: false },
      // The cold scenario (dense text): one request of --cold-texts mixed texts, new process to result.
      cold: { type: 'boolean' },
      'cold-texts': { type: 'string' },
      // The end-to-end pipeline scenario (dense text): on by default (a 300-file drop in --quick); --no-pipeline leaves it out.
      pipeline: { type: 'boolean' },
      // The index scenario (LanceDB writes and searches): 10k and 100k chunks, 10k in --quick.
      index: { type: 'boolean' },
      'index-chunks': { type: 'string' },
      // Only the index scenario (no model needed).
      'index-only': { type: 'boolean', default: false },
      // Only the pipeline scenario (the first dense text model of --models, or --model-dir/--file).
      'pipeline-only': { type: 'boolean', default: false },
      // Only the large-documents scenario (the int8 dense model of --models, or --model-dir/--file).
      'large-docs': { type: 'boolean', default: false },
      'kill-after': { type: 'string', default: '0' },
      scale: { type: 'string', default: '1' },
    },
    io,
  );
  if (!values) return 2;
  const quick = values.quick === true;
  const type = values.type as ModelType;
  if (!(MODEL_TYPES as readonly string[]).includes(type)) {
    io.stderr.write(`vectorizer bench: --type ${type} is not one of ${MODEL_TYPES.join(', ')}.\n`);
    return 2;
  }
  const targets = values['model-dir']
    ? [{ dir: values['model-dir'] as string, file: values.file as string, type }]
    : REFERENCE_SET.filter((model) => !quick || model.file.includes('quantized')).map((model) => ({
        ...model,
        dir: join(values.models as string, model.dir),
      }));
  if (values['large-docs']) {
    const target = values['model-dir'] ? targets[0] : targets.find((model) => model.type === 'text' && model.file.includes('quantized'));
    if (!target) throw new Error('no text model for --large-docs');
    const { runLargeDocsBench } = await import('./large-docs.ts');
    const report = await runLargeDocsBench({
      modelDir: target.dir,
      modelFile: target.file,
      killAfterSeconds: Number(values['kill-after']),
      scale: Number(values.scale),
      progress: (line) => io.stderr.write(`  ${line}\n`),
    });
    io.stdout.write(`${report}\n`);
    return 0;
  }
  const reports: BenchReport[] = [];
  const coldReports: WholeProcessReport[] = [];
  const coldMarkdown: string[] = [];
  const only = values['index-only'] || values['pipeline-only'];
  for (const target of only ? [] : targets) {
    const heavy = target.type === 'sparse' || target.type === 'image';
    const size = Number(values.size ?? (quick ? (heavy ? 6 : 32) : heavy ? 64 : 300));
    io.stderr.write(`\n== ${target.type}: ${target.dir} ${target.file} (${size} items)\n`);
    const report = await runBench({
      type: target.type,
      modelDir: target.dir,
      modelFile: target.file,
      threads: Number(values.threads),
      size,
      rounds: Number(values.rounds ?? 5),
      latencyRepeats: quick ? 3 : 20,
      batchSizes: quick ? [8, 32] : [4, 8, 16, 32, 64],
      coldStarts: quick ? 3 : 5,
      corpusFile: values.corpus as string | undefined,
      imagesDir: values.images as string | undefined,
      // --quick leaves out the slowest contenders (transformers.js in one call, fastembed: 10-30x slower).
      contenders: values.contenders
        ? (values.contenders as string).split(',')
        : quick
          ? ['vectorizer', 'floor', 'transformers.js (batched)']
          : target.type === 'text' && !target.file.includes('quantized')
            ? // fp32 repeats the int8 comparison at ~2.5x the cost; the slow peers are measured on int8.
              ['vectorizer', 'vectorizer (one session)', 'floor', 'transformers.js (batched)']
            : undefined,
      progress: (line) => io.stderr.write(`  ${line}\n`),
    });
    reports.push(report);
    io.stdout.write(`\n${reportTable(report)}\n\n${targetsTable(checkTargets(report))}\n`);
    if (target.type === 'text' && (values.cold ?? true)) {
      io.stderr.write(`\n== cold, whole process: ${target.file}\n`);
      const { runWholeProcessBench, wholeProcessTable } = await import('./whole-process.ts');
      const cold = await runWholeProcessBench({
        modelDir: target.dir,
        modelFile: target.file,
        threads: Number(values.threads),
        texts: Number(values['cold-texts'] ?? (quick ? 200 : 600)),
        rounds: Math.max(5, Number(values.rounds ?? 5)),
        floorBudget: batchLimitsFor('text', loadConfig({ MODEL_ID: 'bench/text' }).limits, 1).maxTokens,
        batchSizes: quick ? [8, 32] : [4, 8, 16, 32, 64],
        progress: (line) => io.stderr.write(`  ${line}\n`),
      });
      const markdown = `${wholeProcessTable(cold)}\n\n${targetsTable(checkColdTargets(cold))}`;
      coldMarkdown.push(markdown);
      coldReports.push(cold);
      io.stdout.write(`\n${markdown}\n`);
    }
  }
  let pipelineMarkdown = '';
  const textTarget = targets.find((target) => target.type === 'text');
  if ((values['pipeline-only'] || (values.pipeline ?? true)) && textTarget && !values['index-only']) {
    io.stderr.write('\n== pipeline (local stack)\n');
    const { pipelineTable, runPipelineBench, workerOnPaper } = await import('./pipeline.ts');
    const results = await runPipelineBench({
      modelDir: textTarget.dir,
      modelFile: textTarget.file,
      threads: Number(values.threads),
      rounds: Number(values.rounds ?? 5),
      // Enough small files that the batching window's wait at the start and the end of the drop
      // (up to 0.5 s each) is a small part of it.
      smallFiles: quick ? 300 : 1000,
      longFiles: quick ? 5 : 20,
      progress: (line) => io.stderr.write(`  ${line}\n`),
    });
    const small = results[0];
    const paper = workerOnPaper(small, Number(values.threads));
    pipelineMarkdown = `${pipelineTable(results, Number(values.threads))}\n\n${targetsTable([
      {
        target: 'pipeline (small files) >= 0.6x the engine alone',
        measured: `${small.vsEngine.median.toFixed(2)}x`,
        met: small.vsEngine.median >= 0.6,
      },
      {
        target: 'pipeline (small files), on paper without the emulator (worker CPU per file): >= 0.6x the engine alone',
        measured: `${paper.vsEngine.toFixed(2)}x (${paper.filesPerSecond.toFixed(0)} files/s)`,
        met: paper.vsEngine >= 0.6,
      },
    ])}`;
    io.stdout.write(`\n${pipelineMarkdown}\n`);
  }
  let indexMarkdown = '';
  if ((values.index ?? true) && !values['pipeline-only']) {
    io.stderr.write('\n== index (LanceDB)\n');
    const { indexTable, runIndexBench } = await import('./index.ts');
    const sizes = ((values['index-chunks'] as string | undefined) ?? (quick ? '10000' : '10000,100000')).split(',').map(Number);
    const results = [];
    for (const chunks of sizes) results.push(await runIndexBench({ chunks, progress: (line) => io.stderr.write(`  ${line}\n`) }));
    indexMarkdown = indexTable(results);
    io.stdout.write(`\n${indexMarkdown}\n`);
  }
  await mkdir(values.out as string, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  await writeFile(join(values.out as string, `bench-${stamp}.json`), JSON.stringify({ warm: reports, cold: coldReports }, null, 2));
  await writeFile(
    join(values.out as string, `bench-${stamp}.md`),
    [
      ...reports.map((report) => `${reportTable(report)}\n\n${targetsTable(checkTargets(report))}`),
      ...coldMarkdown,
      pipelineMarkdown,
      indexMarkdown,
    ].join('\n\n'),
  );
  io.stderr.write(`\nwrote ${join(values.out as string, `bench-${stamp}.{json,md}`)}\n`);
  return 0;
}
