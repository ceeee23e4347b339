/**
 * What the OpenAI and TEI routes cost over this project's own schema: the local invoke server (the
 * one `npm start` runs) serves a model, and the same texts go to the Lambda Invoke API, to
 * `/v1/embeddings` through the official `openai` client (its default base64 encoding, and floats)
 * and to TEI's `/embed`, interleaved request by request. Prints the p50 latency of each route and
 * the median of per-round ratios to the Invoke API, and the response sizes.
 *
 * `MODEL_ID=... MODEL_DIR=... [MODEL_FILE=...] node scripts/http-routes-latency.ts [rounds] [texts per request]`
 * (defaults 200 and 8; at least 5 rounds)
 */
import OpenAI from 'openai';
import { percentile } from '../bench/stats.ts';
import { loadConfig } from '../shared/config.ts';
import { sendLogsToStderr } from '../shared/log-destination.ts';

// stdout is the table: the logger, created when its module loads, must see this first.
sendLogsToStderr();
const { logger } = await import('../shared/logger.ts');
const { createServices } = await import('../shared/services.ts');
const { createInvokeHandler } = await import('../shared/invoke-handler.ts');
const { startInvokeServer } = await import('../local/invoke-server.ts');
const rounds = Number(process.argv[2] ?? 200);
const perRequest = Number(process.argv[3] ?? 8);
if (!Number.isInteger(rounds) || rounds < 5 || !Number.isInteger(perRequest) || perRequest < 1) {
  process.stderr.write('usage: node scripts/http-routes-latency.ts [rounds >= 5] [texts per request >= 1]\n');
  process.exit(2);
}

const services = await createServices(loadConfig(process.env));
const handler = await createInvokeHandler(services);
const server = await startInvokeServer({
  port: 0,
  functions: { function: (event, context) => handler(event, context as never) },
  functionUrl: (event, context) => handler(event, context as never),
  logger,
});
const model = services.model.id;
const openai = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'unused', maxRetries: 0 });
const texts = (round: number) =>
  Array.from({ length: perRequest }, (_, index) => `request ${round} text ${index}: the quick brown fox jumps over the lazy dog`);

async function post(path: string, body: unknown): Promise<number> {
  const response = await fetch(`${server.url}${path}`, { method: 'POST', body: JSON.stringify(body) });
  const bytes = (await response.arrayBuffer()).byteLength;
  if (!response.ok) throw new Error(`${path}: ${response.status}`);
  return bytes;
}

const ROUTES: Record<string, (input: string[]) => Promise<number>> = {
  'invoke API': (input) => post('/2015-03-31/functions/function/invocations', { messages: input }),
  'openai client (base64)': async (input) => (await openai.embeddings.create({ model, input })).data.length,
  '/v1/embeddings float': (input) => post('/v1/embeddings', { model, input, encoding_format: 'float' }),
  '/v1/embeddings base64': (input) => post('/v1/embeddings', { model, input, encoding_format: 'base64' }),
  'TEI /embed': (input) => post('/embed', { inputs: input }),
};
const names = Object.keys(ROUTES);
const times: Record<string, number[]> = Object.fromEntries(names.map((name) => [name, []]));
const sizes: Record<string, number> = {};
// Untimed warm-up on other texts: every route's first calls pay for connections and JIT alike.
for (let round = 0; round < 10; round++) for (const name of names) await ROUTES[name](texts(-1 - round));
for (let round = 0; round < rounds; round++) {
  const order = names.map((_, index) => names[(index + round) % names.length]);
  for (const name of order) {
    const started = performance.now();
    const size = await ROUTES[name](texts(round));
    times[name].push(performance.now() - started);
    if (name !== 'openai client (base64)') sizes[name] = size;
  }
}
const baseline = times['invoke API'];
const lines = [
  `${model}, ${perRequest} texts per request, ${rounds} interleaved rounds`,
  '',
  '| route | p50 ms | p90 ms | ratio to the invoke API (median of per-round ratios) | response bytes |',
  '|---|---|---|---|---|',
  ...names.map((name) => {
    const ratios = times[name].map((ms, round) => ms / baseline[round]);
    return `| ${name} | ${percentile(times[name], 50).toFixed(2)} | ${percentile(times[name], 90).toFixed(2)} | ${percentile(ratios, 50).toFixed(3)} | ${sizes[name] ?? '(decoded by the client)'} |`;
  }),
];
process.stdout.write(`${lines.join('\n')}\n`);
await server.stop();
await services.dispose();
