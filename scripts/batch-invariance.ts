/**
 * How far a text's vector moves with its batch-mates, and what each fix costs. Dynamic int8
 * models quantise activations with one scale per model run, padding included, so the same text
 * gets another vector beside other texts. For every text of the built-in corpus this compares its
 * vector in one request of all texts with its vector alone, under each setting:
 *   default            this project's defaults
 *   BATCH_INVARIANT    every input in a run of its own
 * and, for a u8s8 model (`--signed`: the weights moved back to int8, as hub exports store them),
 * ORT_INT8_WEIGHTS=signed against unsigned (the speed of the u8u8 kernels on this CPU).
 * Speed: the same request warm, settings interleaved round by round (order rotated), the ratio
 * to the default per round, the median of the rounds.
 *
 * `node scripts/batch-invariance.ts [modelDir] [modelFile] [texts] [rounds]`
 */
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { builtInCorpus } from '../bench/corpus.ts';
import { percentile } from '../bench/stats.ts';
import { loadConfig } from '../shared/config.ts';
import { cpuFlags, u8s8Saturates } from '../shared/engines/session/int8-kernels.ts';
import { shiftInt8Weights } from '../shared/engines/session/int8-weights.ts';
import { cosine } from '../shared/math/vector.ts';
import { handleEmbeddingRequest } from '../shared/request/handle.ts';
import { createServices, type Services } from '../shared/services.ts';

const [modelDir = '.cache/bench-models/minilm-l6-dense', modelFile = 'onnx/model_quantized.onnx', size = '300', roundsArg = '5'] =
  process.argv.slice(2).filter((arg) => !arg.startsWith('--'));
const texts = builtInCorpus(Number(size));

// A u8s8 copy of the model: what hub exports look like (the bench files store unsigned weights).
const signedDir = await mkdtemp(join(tmpdir(), 'batch-invariance-'));
await cp(modelDir, signedDir, { recursive: true, filter: (source) => !/\.(optimized|u8u8)/.test(source) });
const shifted = shiftInt8Weights(await readFile(join(modelDir, modelFile)), 'signed');
if ('skipped' in shifted) throw new Error(`cannot make a u8s8 copy: ${shifted.skipped}`);
await writeFile(join(signedDir, modelFile), shifted.model);

const base = { MODEL_ID: 'bench/text', MODEL_TYPE: 'text', MODEL_FILE: modelFile, MAX_INPUTS: '100000', POWERTOOLS_LOG_LEVEL: 'ERROR' };
const settings: Record<string, Record<string, string>> = {
  default: { ...base, MODEL_DIR: modelDir },
  BATCH_INVARIANT: { ...base, MODEL_DIR: modelDir, BATCH_INVARIANT: 'true' },
  ...(shifted.tensors > 0
    ? {
        'u8s8 export, signed kernels': { ...base, MODEL_DIR: signedDir, ORT_INT8_WEIGHTS: 'signed' },
        'u8s8 export, unsigned copy': { ...base, MODEL_DIR: signedDir, ORT_INT8_WEIGHTS: 'unsigned' },
      }
    : {}),
};

const services = new Map<string, Services>();
for (const [name, env] of Object.entries(settings)) services.set(name, await createServices(loadConfig(env)));
const embed = async (runtime: Services, messages: string[]) =>
  ((await handleEmbeddingRequest({ messages }, runtime)) as { embeddings: number[][] }).embeddings;

process.stderr.write(`CPU: ${u8s8Saturates(process.arch, cpuFlags()) ? 'u8s8 saturates (x86 without VNNI)' : 'u8s8 exact'}\n`);
console.log(`| setting | lowest cosine, batched vs alone | median | texts below 0.9999 | cosine vs default alone (lowest) |`);
console.log('|---|---|---|---|---|');
const reference = await Promise.all(texts.map((text) => embed(services.get('default') as Services, [text]).then(([vector]) => vector)));
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
console.log(`| setting | ${texts.length} texts warm, ms median | speed vs default (median of per-round ratios, min-max) |`);
console.log('|---|---|---|');
const baseline = times.get('default') as number[];
for (const name of names) {
  const own = times.get(name) as number[];
  const ratios = own.map((ms, round) => baseline[round] / ms);
  console.log(
    `| ${name} | ${percentile(own, 50).toFixed(0)} | ${percentile(ratios, 50).toFixed(2)}x (${Math.min(...ratios).toFixed(2)}-${Math.max(...ratios).toFixed(2)}) |`,
  );
}
const signedMs = times.get('u8s8 export, signed kernels');
const unsignedMs = times.get('u8s8 export, unsigned copy');
if (signedMs && unsignedMs) {
  const ratios = unsignedMs.map((ms, round) => signedMs[round] / ms);
  console.log(
    `\nunsigned copy vs the u8s8 export's own kernels: ${percentile(ratios, 50).toFixed(2)}x (${Math.min(...ratios).toFixed(2)}-${Math.max(...ratios).toFixed(2)}), > 1 is faster`,
  );
}
await Promise.all([...services.values()].map((runtime) => runtime.dispose()));
await rm(signedDir, { recursive: true, force: true });
