/**
 * Measures ONNX Runtime session settings against this project's defaults (session-options.ts) on
 * one model and the built-in corpus: every variant is its own session in this process, rounds
 * interleaved with the order rotated, speed ratio to the default taken per round, median of the
 * rounds. `[VARIANTS=regex] node scripts/session-settings.ts [modelDir] [modelFile] [texts] [rounds]`.
 */
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { builtInCorpus } from '../bench/corpus.ts';
import { ortSessionOptions } from '../shared/engines/session/ort-options.ts';
import { TextTokenizer, toBatchTensors } from '../shared/engines/tokenizer.ts';

const [modelDir = '.cache/bench-models/minilm-l6-dense', modelFile = 'onnx/model_quantized.onnx', size = '128', roundsArg = '5'] =
  process.argv.slice(2);
const threads = 2;
const base = ortSessionOptions({ intraOpThreads: threads, spinning: true });
const variants: Record<string, ort.InferenceSession.SessionOptions> = {
  'default (all, 2 threads, sequential, arena, no memory pattern)': base,
  'graph optimisation extended': { ...base, graphOptimizationLevel: 'extended' },
  'graph optimisation basic': { ...base, graphOptimizationLevel: 'basic' },
  'graph optimisation disabled': { ...base, graphOptimizationLevel: 'disabled' },
  'intra-op threads 1': { ...base, intraOpNumThreads: 1 },
  'parallel execution, 2 inter-op threads': { ...base, executionMode: 'parallel', interOpNumThreads: 2 },
  'memory pattern on': { ...base, enableMemPattern: true },
  'intra-op spinning off': ortSessionOptions({ intraOpThreads: threads, spinning: false }),
  'spinning stopped after each run': { ...base, extra: { session: { intra_op: { allow_spinning: '1' }, force_spinning_stop: '1' } } },
  'memory pattern on, spinning off': { ...ortSessionOptions({ intraOpThreads: threads, spinning: false }), enableMemPattern: true },
};
// VARIANTS=regex keeps only the settings whose names match (the default is always measured).
const only = process.env.VARIANTS ? new RegExp(process.env.VARIANTS) : undefined;
for (const name of Object.keys(variants)) if (only && !name.startsWith('default') && !only.test(name)) delete variants[name];

const tokenizer = await TextTokenizer.load(modelDir, 512);
const encodings = builtInCorpus(Number(size), 11)
  .map((text) => tokenizer.encode(text, true))
  .sort((a, b) => b.ids.length - a.ids.length);
const batches = Array.from({ length: Math.ceil(encodings.length / 16) }, (_, index) => encodings.slice(index * 16, index * 16 + 16));
const sessions = new Map<string, ort.InferenceSession>();
for (const [name, options] of Object.entries(variants))
  sessions.set(name, await ort.InferenceSession.create(join(modelDir, modelFile), options));

async function pass(session: ort.InferenceSession): Promise<number> {
  const started = performance.now();
  for (const batch of batches) {
    const tensors = toBatchTensors(batch, tokenizer.padId);
    const feeds: Record<string, ort.Tensor> = {};
    for (const name of session.inputNames) {
      const input = tensors[name as 'input_ids'];
      feeds[name] = new ort.Tensor(input.type, input.data, [...input.dims]);
    }
    await session.run(feeds);
  }
  return performance.now() - started;
}

const names = [...sessions.keys()];
for (const name of names) await pass(sessions.get(name) as ort.InferenceSession); // warm-up
const ratios = new Map<string, number[]>(names.map((name) => [name, []]));
const rounds = Number(roundsArg);
for (let round = 0; round < rounds; round++) {
  const ms = new Map<string, number>();
  for (const name of names.map((_, index) => names[(index + round) % names.length])) {
    // A pause, so the previous session's spinning threads have gone idle.
    await new Promise((resolve) => setTimeout(resolve, 100));
    ms.set(name, await pass(sessions.get(name) as ort.InferenceSession));
  }
  for (const name of names) ratios.get(name)?.push((ms.get(names[0]) as number) / (ms.get(name) as number));
  process.stderr.write(`round ${round + 1}/${rounds}\n`);
}
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
console.log(`${modelFile}, ${encodings.length} texts in batches of 16, ${threads} threads, ${rounds} rounds\n`);
console.log('| setting | speed vs default (median, min-max) |\n|---|---|');
for (const name of names) {
  const values = ratios.get(name) as number[];
  console.log(`| ${name} | ${median(values).toFixed(2)}x (${Math.min(...values).toFixed(2)}-${Math.max(...values).toFixed(2)}) |`);
}
