import * as ort from 'onnxruntime-node';
import { builtInCorpus } from './shared/bench/corpus.ts';
import { planBatches } from './shared/engines/batching.ts';
import { TextTokenizer, toBatchTensors } from './shared/engines/tokenizer.ts';

const dir = '/work/main/.cache/bench-models/minilm-l6-dense';
const tok = await TextTokenizer.load(dir, 512);
const mk = (memPattern: boolean, arena: boolean) =>
  ort.InferenceSession.create(`${dir}/onnx/model_quantized.onnx`, {
    graphOptimizationLevel: 'all',
    intraOpNumThreads: 2,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    enableMemPattern: memPattern,
    enableCpuMemArena: arena,
  });
const variants = [
  ['pattern+arena', await mk(true, true)],
  ['nopattern+arena', await mk(false, true)],
  ['nopattern+noarena', await mk(false, false)],
] as const;
async function run(s: ort.InferenceSession, texts: string[]) {
  const enc = texts.map((t) => tok.encode(t, true));
  for (const b of planBatches(
    enc.map((e) => e.ids.length),
    { maxTokens: 8192, maxItems: 256 },
  )) {
    const t = toBatchTensors(
      b.map((i) => enc[i]),
      0,
    );
    await s.run({ input_ids: t.input_ids, attention_mask: t.attention_mask, token_type_ids: t.token_type_ids });
  }
}
const times: Record<string, number[]> = {};
for (let r = 0; r < 4; r++) {
  const texts = builtInCorpus(60, 1000 + r); // new shapes every round
  for (const [name, s] of variants) {
    const t = performance.now();
    await run(s, texts);
    (times[name] ??= []).push(performance.now() - t);
  }
  for (const [name, s] of variants) {
    const t = performance.now();
    await run(s, texts);
    (times[name + ' (repeat)'] ??= []).push(performance.now() - t);
  }
}
for (const [k, v] of Object.entries(times)) console.log(k.padEnd(32), v.map((x) => x.toFixed(0)).join(' '));
