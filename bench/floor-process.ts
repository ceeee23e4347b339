/**
 * The floor's whole process, for the cold scenario (whole-process.ts): what a user who writes the
 * job by hand against onnxruntime-node does from a new process to a printed result. Load ONNX
 * Runtime and the tokenizer, tokenise, run length-sorted batches on one session with every
 * thread, mean-pool and normalise, print the vectors as JSON. No schema, no checks, no pool.
 *
 * `node floor-process.js <json args>`: { modelDir, modelFile, payload, threads, batching }, where
 * batching is a fixed batch size or a token budget (`{ maxTokens }`, this project's plan).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

interface FloorArgs {
  readonly modelDir: string;
  readonly modelFile: string;
  readonly payload: string;
  readonly threads: number;
  readonly batching: number | { readonly maxTokens: number };
}

const args = JSON.parse(process.argv[2]) as FloorArgs;
const ort = await import('onnxruntime-node');
const { TextTokenizer, toBatchTensors } = await import('../shared/engines/tokenizer.ts');
const { planBatches } = await import('../shared/engines/batching/plan.ts');
const [session, tokenizer, payload] = await Promise.all([
  ort.InferenceSession.create(join(args.modelDir, args.modelFile), {
    graphOptimizationLevel: 'all',
    intraOpNumThreads: args.threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
  }),
  TextTokenizer.load(args.modelDir, 512),
  readFile(args.payload, 'utf8').then((text) => JSON.parse(text) as { messages: string[] }),
]);
const encodings = payload.messages.map((text) => tokenizer.encode(text, true));
const lengths = encodings.map((encoding) => encoding.ids.length);
const batches =
  typeof args.batching === 'number'
    ? (() => {
        const size = args.batching;
        const order = lengths.map((_, index) => index).sort((a, b) => lengths[b] - lengths[a]);
        return Array.from({ length: Math.ceil(order.length / size) }, (_, index) => order.slice(index * size, (index + 1) * size));
      })()
    : planBatches(lengths, { maxTokens: args.batching.maxTokens, maxItems: 256 });
const vectors = new Array<number[]>(encodings.length);
for (const batch of batches) {
  const tensors = toBatchTensors(
    batch.map((index) => encodings[index]),
    tokenizer.padId,
  );
  const feeds: Record<string, InstanceType<typeof ort.Tensor>> = {};
  for (const name of session.inputNames) {
    const input = tensors[name as 'input_ids'];
    feeds[name] = new ort.Tensor(input.type, input.data, [...input.dims]);
  }
  const output = (await session.run(feeds))[session.outputNames[0]];
  const [rows, width, hidden] = output.dims as number[];
  const data = output.data as Float32Array;
  for (const [row, index] of batch.entries()) {
    const sum = new Float64Array(hidden);
    const length = lengths[index];
    for (let token = 0; token < length; token++) {
      const offset = (row * width + token) * hidden;
      for (let h = 0; h < hidden; h++) sum[h] += data[offset + h];
    }
    let norm = 0;
    for (let h = 0; h < hidden; h++) norm += (sum[h] / length) ** 2;
    norm = Math.sqrt(norm) || 1;
    vectors[index] = Array.from(sum, (value) => value / length / norm);
  }
  void rows;
}
process.stdout.write(`${JSON.stringify({ embeddings: vectors })}\n`);
