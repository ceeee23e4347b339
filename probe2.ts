import { builtInCorpus } from './shared/bench/corpus.ts';
import { createEngine } from './shared/engines/index.ts';

const dir = '/work/main/.cache/bench-models/minilm-l6-dense';
const texts = builtInCorpus(120);
const spec = {
  id: 'x',
  type: 'text',
  dir,
  file: 'onnx/model_quantized.onnx',
  dimension: 384,
  pooling: 'mean',
  normalize: true,
  maxTokens: 512,
  prefixes: {},
  outputName: 'last_hidden_state',
  fromCatalog: false,
} as const;
const budgets = [1024, 2048, 4096, 8192];
const engines: any[] = [];
for (const b of budgets)
  engines.push(
    await createEngine({ spec, limits: { maxBatchTokens: b, maxBatchImages: 16, maxInputs: 4096, maxInputBytes: 1e8 }, intraOpThreads: 2 }),
  );
for (const e of engines) await e.embed(texts, { truncate: true });
const times: number[][] = budgets.map(() => []);
for (let r = 0; r < 3; r++)
  for (const [i, e] of engines.entries()) {
    const t = performance.now();
    await e.embed(texts, { truncate: true });
    times[i].push(performance.now() - t);
  }
for (const [i, b] of budgets.entries()) console.log(b, times[i].map((x) => x.toFixed(0)).join(' '));
