/**
 * How far a text's vector moves with its batch-mates, and what the int8 settings cost. Dynamic
 * int8 models quantise activations with one scale per model run, padding included, so the same
 * text gets another vector beside other texts. For every text of the built-in corpus this compares
 * its vector in one request of all texts with its vector alone, under each setting (the defaults,
 * BATCH_INVARIANT, larger batches, each weight storage: ORT_INT8_WEIGHTS), and how far each
 * setting's vectors are from the defaults'. Speed: the same request warm, settings interleaved
 * round by round (order rotated), the ratio to the defaults per round, the median of the rounds.
 *
 * `node scripts/batch-invariance.ts [modelDir] [modelFile] [texts] [rounds]`
 */
import { builtInCorpus } from '../bench/corpus.ts';
import { percentile } from '../bench/stats.ts';
import { loadConfig } from '../shared/config.ts';
import { cpuFlags, preferredStorage } from '../shared/engines/session/int8-kernels.ts';
import { cosine } from '../shared/math/vector.ts';
import { handleEmbeddingRequest } from '../shared/request/handle.ts';
import { createServices, type Services } from '../shared/services.ts';

const [modelDir = '.cache/bench-models/minilm-l6-dense', modelFile = 'onnx/model_quantized.onnx', size = '300', roundsArg = '5'] =
  process.argv.slice(2);
const texts = builtInCorpus(Number(size));
const base = {
  MODEL_ID: 'bench/text',
  MODEL_TYPE: 'text',
  MODEL_DIR: modelDir,
  MODEL_FILE: modelFile,
  MAX_INPUTS: '100000',
  POWERTOOLS_LOG_LEVEL: 'ERROR',
};
const settings: Record<string, Record<string, string>> = {
  defaults: base,
  'BATCH_INVARIANT=true': { ...base, BATCH_INVARIANT: 'true' },
  'MAX_BATCH_TOKENS=8192 (more padding per run)': { ...base, MAX_BATCH_TOKENS: '8192' },
  'ORT_INT8_WEIGHTS=exported': { ...base, ORT_INT8_WEIGHTS: 'exported' },
  'ORT_INT8_WEIGHTS=signed': { ...base, ORT_INT8_WEIGHTS: 'signed' },
  'ORT_INT8_WEIGHTS=unsigned': { ...base, ORT_INT8_WEIGHTS: 'unsigned' },
};

const services = new Map<string, Services>();
for (const [name, env] of Object.entries(settings)) services.set(name, await createServices(loadConfig(env)));
const embed = async (runtime: Services, messages: string[]) =>
  ((await handleEmbeddingRequest({ messages }, runtime)) as { embeddings: number[][] }).embeddings;

console.log(`ORT_INT8_WEIGHTS=auto on this CPU: ${preferredStorage('auto', process.arch, cpuFlags()) ?? 'exported'}\n`);
console.log(`| setting | lowest cosine, batched vs alone | median | texts below 0.9999 | cosine vs the defaults, alone (lowest) |`);
console.log('|---|---|---|---|---|');
const reference = await Promise.all(texts.map((text) => embed(services.get('defaults') as Services, [text]).then(([vector]) => vector)));
for (const [name, runtime] of services) {
  const batched = await embed(runtime, texts);
  const alone = await Promise.all(texts.map((text) => embed(runtime, [text]).then(([vector]) => vector)));
  const drift = batched.map((vector, index) => cosine(vector, alone[index]));
  const againstDefault = alone.map((vector, index) => cosine(vector, reference[index]));
  console.log(
    `| ${name} | ${Math.min(...drift).toFixed(6)} | ${percentile(drift, 50).toFixed(6)} | ${drift.filter((value) => value < 0.9999).length} of ${texts.length} | ${Math.min(...againstDefault).toFixed(6)} |`,
  );
}

// Speed: the same request of all texts, warm, interleaved.
const names = [...services.keys()];
for (const name of names) for (let pass = 0; pass < 2; pass++) await embed(services.get(name) as Services, texts);
const times = new Map<string, number[]>(names.map((name) => [name, []]));
for (let round = 0; round < Number(roundsArg); round++) {
  for (let turn = 0; turn < names.length; turn++) {
    const name = names[(turn + round) % names.length];
    await new Promise((resolve) => setTimeout(resolve, 150));
    const started = performance.now();
    await embed(services.get(name) as Services, texts);
    times.get(name)?.push(performance.now() - started);
  }
}
console.log('');
console.log(`| setting | ${texts.length} texts warm, ms median | speed vs the defaults (median of per-round ratios, min-max) |`);
console.log('|---|---|---|');
const baseline = times.get('defaults') as number[];
for (const name of names) {
  const own = times.get(name) as number[];
  const ratios = own.map((ms, round) => baseline[round] / ms);
  console.log(
    `| ${name} | ${percentile(own, 50).toFixed(0)} | ${percentile(ratios, 50).toFixed(2)}x (${Math.min(...ratios).toFixed(2)}-${Math.max(...ratios).toFixed(2)}) |`,
  );
}
await Promise.all([...services.values()].map((runtime) => runtime.dispose()));
