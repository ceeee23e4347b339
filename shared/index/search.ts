import { UnsupportedForModelError } from '../errors.ts';
import type { TextEngine } from '../kinds/text.ts';
import type { SearchRequest, SearchResponse } from '../request/schema.ts';
import type { IndexSink } from './types.ts';

/** Results when the request gives no `top_k`. */
export const DEFAULT_TOP_K = 10;

type Hit = SearchResponse['results'][number];

/**
 * A PDF's pages and a CSV's rows are its items, numbered from 1 (pipeline/formats): the index keeps
 * the item's position, which gives the page or row.
 * @example located({ key: 'a/report.pdf', item: 4, ... }).page // 5
 */
export function located(hit: Hit): Hit {
  if (hit.item === undefined) return hit;
  const key = hit.key.toLowerCase();
  if (key.endsWith('.pdf')) return { ...hit, page: hit.item + 1 };
  if (key.endsWith('.csv') || key.endsWith('.tsv')) return { ...hit, row: hit.item + 1 };
  return hit;
}

/**
 * A search: the query embedded as a query (the model's query prefix: `query: ` for e5, BGE's
 * instruction), then the index's nearest chunks by cosine similarity, best first, narrowed by the
 * metadata filter, key prefix and bucket.
 * @throws UnsupportedForModelError when this deployment keeps no index (INDEX_SINK=none).
 */
export async function searchIndex(engine: TextEngine, index: IndexSink | undefined, search: SearchRequest): Promise<SearchResponse> {
  if (!index) {
    throw new UnsupportedForModelError(
      `This function keeps no vector index (INDEX_SINK=none), so it cannot search: set INDEX_SINK to lancedb or s3vectors.`,
    );
  }
  const embedded = await engine.embed([search.query], { truncate: true, inputType: 'query' });
  const results = await index.search(Array.from(embedded.embeddings[0]), {
    topK: search.top_k ?? DEFAULT_TOP_K,
    ...(search.filter ? { filter: search.filter } : {}),
    ...(search.prefix ? { prefix: search.prefix } : {}),
    ...(search.bucket ? { bucket: search.bucket } : {}),
  });
  return {
    results: results.map((hit) => located({ ...hit, metadata: { ...hit.metadata } })),
    model_id: engine.spec.id,
    count: results.length,
    usage: { tokens: embedded.tokens },
  };
}
