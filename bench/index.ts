/**
 * The index scenario: how fast the LanceDB sink takes a drop's chunks and answers searches, at a
 * given table size. Vectors are random unit vectors of the model's size (the index does not care
 * what they mean); documents have 10 chunks each, with a short text and one metadata key. Writes
 * go through the sink as the worker sends them (many documents in flight, merged per flush).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openLanceDbSink } from '../shared/index/lancedb.ts';
import type { IndexDocument } from '../shared/index/types.ts';
import { seededUnitVectors } from './corpus.ts';
import { percentile } from './stats.ts';

export interface IndexBenchResult {
  readonly chunks: number;
  readonly dimension: number;
  /** Chunks written per second (documents of 10 chunks, 200 in flight). */
  readonly writesPerSecond: number;
  /** The first search after opening the table (its files are read then). */
  readonly firstSearchMs: number;
  readonly search: { readonly p50: number; readonly p95: number };
  /** With a metadata filter and a key prefix (filters apply before the scan). */
  readonly filteredSearch: { readonly p50: number; readonly p95: number };
}

const CHUNKS_PER_DOCUMENT = 10;
const IN_FLIGHT = 200;

function documentOf(index: number, vectors: Float32Array[], dimension: number): IndexDocument {
  return {
    source: { bucket: 'bench', key: `docs/${index % 10}/doc-${index}.txt`, etag: `etag-${index}` },
    modelId: 'bench/random',
    createdAt: new Date(0).toISOString(),
    metadata: { team: `team-${index % 7}` },
    chunks: Array.from({ length: CHUNKS_PER_DOCUMENT }, (_, chunk) => ({
      chunk,
      vector: Array.from(vectors[(index * CHUNKS_PER_DOCUMENT + chunk) % vectors.length].subarray(0, dimension)),
      text: `chunk ${chunk} of document ${index}: a short text stored with the vector`,
      start: chunk * 100,
      end: chunk * 100 + 99,
    })),
  };
}

async function timings(count: number, run: (round: number) => Promise<unknown>): Promise<number[]> {
  const times: number[] = [];
  for (let round = 0; round < count; round++) {
    const started = performance.now();
    await run(round);
    times.push(performance.now() - started);
  }
  return times;
}

/** Fills a fresh table with `chunks` chunks, then times searches on it. */
export async function runIndexBench(options: {
  chunks: number;
  dimension?: number;
  queries?: number;
  progress?: (line: string) => void;
}): Promise<IndexBenchResult> {
  const dimension = options.dimension ?? 384;
  const dir = await mkdtemp(join(tmpdir(), 'vectorizer-index-bench-'));
  try {
    // A pool of distinct vectors, reused across documents (4096 is enough for a flat scan's cost).
    const pool = seededUnitVectors(4096, dimension, 7);
    let sink = await openLanceDbSink({ uri: dir, table: 'bench', dimension });
    const documents = Math.ceil(options.chunks / CHUNKS_PER_DOCUMENT);
    const started = performance.now();
    for (let first = 0; first < documents; first += IN_FLIGHT) {
      const wave = Array.from({ length: Math.min(IN_FLIGHT, documents - first) }, (_, offset) =>
        documentOf(first + offset, pool, dimension),
      );
      await Promise.all(wave.map((document) => sink.replaceSource(document)));
      if (first % (IN_FLIGHT * 10) === 0) options.progress?.(`index: ${(first + wave.length) * CHUNKS_PER_DOCUMENT} chunks written`);
    }
    const writeSeconds = (performance.now() - started) / 1000;
    await sink.close();
    // Searches on a table opened afresh, as a new process would.
    sink = await openLanceDbSink({ uri: dir, table: 'bench', dimension });
    const queries = seededUnitVectors(options.queries ?? 100, dimension, 11).map((vector) => Array.from(vector));
    const [first] = await timings(1, () => sink.search(queries[0], { topK: 10 }));
    const plain = await timings(queries.length, (round) => sink.search(queries[round], { topK: 10 }));
    const filtered = await timings(queries.length, (round) =>
      sink.search(queries[round], { topK: 10, prefix: 'docs/3/', filter: { team: 'team-2' } }),
    );
    await sink.close();
    return {
      chunks: documents * CHUNKS_PER_DOCUMENT,
      dimension,
      writesPerSecond: (documents * CHUNKS_PER_DOCUMENT) / writeSeconds,
      firstSearchMs: first,
      search: { p50: percentile(plain, 50), p95: percentile(plain, 95) },
      filteredSearch: { p50: percentile(filtered, 50), p95: percentile(filtered, 95) },
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The results as a Markdown table. */
export function indexTable(results: readonly IndexBenchResult[]): string {
  const ms = (value: number) => value.toFixed(1);
  return [
    '| chunks | dim | writes (chunks/s) | first search (ms) | search p50 / p95 (ms) | filtered p50 / p95 (ms) |',
    '|---|---|---|---|---|---|',
    ...results.map(
      (result) =>
        `| ${result.chunks} | ${result.dimension} | ${Math.round(result.writesPerSecond)} | ${ms(result.firstSearchMs)} | ${ms(result.search.p50)} / ${ms(result.search.p95)} | ${ms(result.filteredSearch.p50)} / ${ms(result.filteredSearch.p95)} |`,
    ),
  ].join('\n');
}
