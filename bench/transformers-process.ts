/**
 * transformers.js's whole process, for the cold scenario (whole-process.ts): its documented
 * `pipeline('feature-extraction')` with mean pooling and normalisation, on length-sorted batches of
 * a fixed size (its best batching), printing the vectors as JSON.
 *
 * `node transformers-process.js <json args>`: { modelDir, modelFile, payload, threads, batching }.
 */
import { readFile } from 'node:fs/promises';

interface Args {
  readonly modelDir: string;
  readonly modelFile: string;
  readonly payload: string;
  readonly threads: number;
  readonly batching: number;
}

const args = JSON.parse(process.argv[2]) as Args;
const hf = await import('@huggingface/transformers');
const [extractor, payload] = await Promise.all([
  hf.pipeline('feature-extraction', args.modelDir, {
    dtype: args.modelFile.includes('quantized') ? 'q8' : 'fp32',
    local_files_only: true,
    session_options: { intraOpNumThreads: args.threads, interOpNumThreads: 1 },
  } as never),
  readFile(args.payload, 'utf8').then((text) => JSON.parse(text) as { messages: string[] }),
]);
const texts = payload.messages;
const order = texts.map((_, index) => index).sort((a, b) => texts[b].length - texts[a].length);
const vectors = new Array<number[]>(texts.length);
for (let start = 0; start < order.length; start += args.batching) {
  const batch = order.slice(start, start + args.batching);
  const output = await extractor(
    batch.map((index) => texts[index]),
    { pooling: 'mean', normalize: true },
  );
  const rows = output.tolist() as number[][];
  for (const [row, index] of batch.entries()) vectors[index] = rows[row];
}
process.stdout.write(`${JSON.stringify({ embeddings: vectors })}\n`);
