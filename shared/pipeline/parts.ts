/**
 * Large documents in parts: the whole document is chunked once, its chunks are split into ranges
 * (parts) that are embedded as messages of their own, each part's result is stored under a name
 * that says its range, and the output is assembled when stored ranges cover every chunk. Ranges
 * come from one chunking of the whole document, so any cover of them gives the same output. Pure.
 */
import { z } from 'zod';

/** A chunk of a document as the whole-document chunking cut it. */
export interface PlannedChunk {
  /** Position of the item (JSON array entry, JSONL line, PDF page, CSV row) in the source, when the file has items. */
  readonly item?: number;
  /** The item's PDF page (1-based); not in part messages (the item's position tells it). */
  readonly page?: number;
  /** The item's CSV data row (1-based); not in part messages (the item's position tells it). */
  readonly row?: number;
  /** Character offsets into the (item's) text. */
  readonly start: number;
  readonly end: number;
  /** Content tokens (the chunker's count). */
  readonly tokens: number;
}

/** Chunks `from` (included) to `to` (excluded) of a document's chunking. */
export interface ChunkRange {
  readonly from: number;
  readonly to: number;
}

/** Chunks per part message at most, whatever their tokens: keeps a message far below SQS's 256 KB. */
export const MAX_CHUNKS_PER_PART = 2048;

/**
 * Consecutive ranges of at most `maxTokens` tokens (and MAX_CHUNKS_PER_PART chunks) each, a
 * chunk never split; a chunk larger than `maxTokens` is a range alone.
 * @example splitByTokens([{tokens: 3}, {tokens: 3}, {tokens: 3}], 6) // [{from: 0, to: 2}, {from: 2, to: 3}]
 */
export function splitByTokens(
  chunks: readonly { readonly tokens: number }[],
  maxTokens: number,
  maxChunks = MAX_CHUNKS_PER_PART,
): ChunkRange[] {
  const ranges: ChunkRange[] = [];
  let from = 0;
  let tokens = 0;
  chunks.forEach((chunk, index) => {
    if (index > from && (tokens + chunk.tokens > maxTokens || index - from >= maxChunks)) {
      ranges.push({ from, to: index });
      from = index;
      tokens = 0;
    }
    tokens += chunk.tokens;
  });
  if (from < chunks.length) ranges.push({ from, to: chunks.length });
  return ranges;
}

/** Where the parts of one version of a source are stored: beside its output, by ETag. */
export function partsPrefix(outputKey: string, etag: string): string {
  return `${partsRoot(outputKey)}${etag}/`;
}

/** Every version's parts of one source (removed once its output is written). */
export function partsRoot(outputKey: string): string {
  return `${outputKey}.parts/`;
}

/** True for the key of a stored part (or anything under a parts folder). */
export function isPartKey(key: string, outputSuffix: string): boolean {
  return key.includes(`${outputSuffix}.parts/`);
}

const DIGITS = 9;

/**
 * A part's key: its range, zero-padded so listings sort in order, and no extension, so no
 * notification filter (`.json`, `.txt`, ...) matches it.
 * @example partKey('a.txt.vectors.json.parts/e1/', { from: 0, to: 12 }) // 'a.txt.vectors.json.parts/e1/000000000-000000012'
 */
export function partKey(prefix: string, range: ChunkRange): string {
  return `${prefix}${String(range.from).padStart(DIGITS, '0')}-${String(range.to).padStart(DIGITS, '0')}`;
}

/** The range a part's key names, or undefined for any other key. */
export function parsePartKey(prefix: string, key: string): ChunkRange | undefined {
  if (!key.startsWith(prefix)) return undefined;
  const match = /^(\d+)-(\d+)$/.exec(key.slice(prefix.length));
  if (!match) return undefined;
  const range = { from: Number(match[1]), to: Number(match[2]) };
  return range.from < range.to ? range : undefined;
}

/**
 * Stored ranges that cover chunks [0, total) end to end, in order, or undefined while a gap is
 * left. Ranges of retries and continuations may overlap: from each position the longest stored
 * range starting there is taken, falling back to shorter ones when the longest leads to a gap.
 * @example coverOf([{from: 0, to: 2}, {from: 2, to: 5}, {from: 0, to: 1}], 5) // [{0,2}, {2,5}]
 */
export function coverOf(ranges: readonly ChunkRange[], total: number): ChunkRange[] | undefined {
  if (total === 0) return [];
  const starting = new Map<number, ChunkRange[]>();
  for (const range of ranges) {
    if (range.to > total) continue;
    const list = starting.get(range.from) ?? [];
    list.push(range);
    starting.set(range.from, list);
  }
  for (const list of starting.values()) list.sort((a, b) => b.to - a.to);
  // Depth-first from 0; `dead` remembers positions from which no cover exists.
  const dead = new Set<number>();
  const walk = (position: number): ChunkRange[] | undefined => {
    if (position === total) return [];
    if (dead.has(position)) return undefined;
    for (const range of starting.get(position) ?? []) {
      const rest = walk(range.to);
      if (rest) return [range, ...rest];
    }
    dead.add(position);
    return undefined;
  };
  return walk(0);
}

/**
 * Where work on [from, to) resumes: past the stored ranges that continue each other from `from`
 * (a part retried after a crash does not embed again what it stored).
 * @example resumeAt([{from: 0, to: 4}, {from: 4, to: 6}], { from: 0, to: 10 }) // 6
 */
export function resumeAt(ranges: readonly ChunkRange[], range: ChunkRange): number {
  let position = range.from;
  for (;;) {
    const next = ranges.filter((stored) => stored.from === position && stored.to <= range.to).sort((a, b) => b.to - a.to)[0];
    if (!next) return position;
    position = next.to;
  }
}

const plannedChunkTuple = z.tuple([
  z.number().int().min(-1),
  z.number().int().nonnegative(),
  z.number().int().nonnegative(),
  z.number().int().nonnegative(),
]);

/** The message of one part: which version of which source, which chunks, and the chunking they came from. */
export const partMessageSchema = z.strictObject({
  vectorizer_part: z.strictObject({
    bucket: z.string().min(1),
    key: z.string().min(1),
    etag: z.string().min(1),
    size: z.number().int().nonnegative(),
    /** Chunks of the whole document. */
    total: z.number().int().positive(),
    from: z.number().int().nonnegative(),
    to: z.number().int().positive(),
    chunking: z.strictObject({ max_tokens: z.number().int().positive(), overlap_tokens: z.number().int().nonnegative() }),
    /** [item (-1: none), start, end, tokens] of chunks from..to. */
    chunks: z.array(plannedChunkTuple),
  }),
});

export type PartMessage = z.infer<typeof partMessageSchema>['vectorizer_part'];

/** The message body for chunks [range.from, range.to) of a chunked document. */
export function partMessage(
  source: { bucket: string; key: string; etag: string; size: number },
  chunks: readonly PlannedChunk[],
  range: ChunkRange,
  chunking: PartMessage['chunking'],
): { vectorizer_part: PartMessage } {
  return {
    vectorizer_part: {
      ...source,
      total: chunks.length,
      from: range.from,
      to: range.to,
      chunking,
      chunks: chunks.slice(range.from, range.to).map((chunk) => [chunk.item ?? -1, chunk.start, chunk.end, chunk.tokens]),
    },
  };
}

/** The planned chunks a part message carries (chunks from..to of its document). */
export function chunksOfPart(part: PartMessage): PlannedChunk[] {
  return part.chunks.map(([item, start, end, tokens]) => ({ ...(item >= 0 ? { item } : {}), start, end, tokens }));
}
