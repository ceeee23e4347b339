import { type Env, loadConfig } from '../config.ts';
import { describeFailure, toErrorBody, toVectorizerError } from '../errors.ts';
import { DEFAULT_MODEL_ID } from '../models/catalog.ts';
import type { SearchResponse } from '../request/schema.ts';
import { textTable } from '../text-table.ts';
import type { CliIo } from './io.ts';
import { parseCommand } from './options.ts';

const USAGE = 'vectorizer search "query" [--top-k N] [--filter name=value ...] [--prefix P] [--bucket B] [--json]';

/** The search results as a table for people: rank, score, where the chunk is, and its text. */
export function formatResults(response: SearchResponse): string {
  if (response.results.length === 0) return 'No results.';
  const clip = (text: string) => {
    const flat = text.replace(/\s+/g, ' ').trim();
    return flat.length > 80 ? `${flat.slice(0, 77)}...` : flat;
  };
  const rows = response.results.map((result, rank) => [
    String(rank + 1),
    result.score.toFixed(4),
    `s3://${result.bucket}/${result.key}#${result.chunk}${result.page ? ` (page ${result.page})` : result.row ? ` (row ${result.row})` : ''}`,
    clip(result.text),
  ]);
  return textTable([['#', 'score', 'chunk', 'text'], ...rows]);
}

/**
 * The environment of a search from a laptop: the local stack's defaults (the same model and the
 * same LanceDB index as `npm start`) unless the environment says otherwise.
 */
function searchEnv(env: Env): Env {
  return { ...env, INDEX_SINK: env.INDEX_SINK ?? 'auto' };
}

/**
 * `vectorizer search "query"`: embeds the query with the configured model (its query prefix) and
 * prints the index's nearest chunks: a table, or with `--json` the invoke handler's search response.
 */
export async function runSearch(args: string[], io: CliIo): Promise<number> {
  const parsed = parseCommand(
    args,
    {
      'top-k': { type: 'string', short: 'k' },
      filter: { type: 'string', multiple: true },
      prefix: { type: 'string' },
      bucket: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
    io,
  );
  if (!parsed) return 2;
  const query = parsed.positionals.join(' ').trim();
  if (!query) {
    io.stderr.write(`vectorizer search: a query is required.\nUsage: ${USAGE}\n`);
    return 2;
  }
  const filter: Record<string, string> = {};
  for (const pair of (parsed.values.filter as string[] | undefined) ?? []) {
    const split = pair.indexOf('=');
    if (split < 1) {
      io.stderr.write(`vectorizer search: --filter ${JSON.stringify(pair)} is not name=value.\n`);
      return 2;
    }
    filter[pair.slice(0, split)] = pair.slice(split + 1);
  }
  const topK = parsed.values['top-k'] === undefined ? undefined : Number(parsed.values['top-k']);
  const search = {
    query,
    ...(topK === undefined ? {} : { top_k: topK }),
    ...(Object.keys(filter).length ? { filter } : {}),
    ...(parsed.values.prefix ? { prefix: parsed.values.prefix as string } : {}),
    ...(parsed.values.bucket ? { bucket: parsed.values.bucket as string } : {}),
  };
  try {
    const [{ createServices }, { handleEmbeddingRequest }, { parseEmbeddingRequest }] = await Promise.all([
      import('../services.ts'),
      import('../request/handle.ts'),
      import('../request/schema.ts'),
    ]);
    const request = parseEmbeddingRequest({ search });
    const services = await createServices(loadConfig(searchEnv(io.env), { modelId: DEFAULT_MODEL_ID }));
    const response = (await handleEmbeddingRequest(request, services).finally(() => services.dispose())) as SearchResponse;
    io.stdout.write(parsed.values.json ? `${JSON.stringify(response)}\n` : `${formatResults(response)}\n`);
    return 0;
  } catch (error) {
    io.stderr.write(`vectorizer search: ${describeFailure(error)}\n`);
    if (parsed.values.json) io.stdout.write(`${JSON.stringify(toErrorBody(toVectorizerError(error)))}\n`);
    return 1;
  }
}
