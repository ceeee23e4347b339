import type { DocumentEmbedder, TokenCounter } from '../kinds/types.ts';
import { chunkText } from './chunking.ts';
import type { TextItem } from './documents.ts';
import type { ChunkOutput, VectorsDocument } from './outputs.ts';
import type { PlannedChunk } from './parts.ts';
import type { WorkContext } from './work.ts';

export type Chunking = NonNullable<VectorsDocument['chunking']>;

/**
 * The chunks of a whole text document (every item), as one chunking: parts and continuations
 * carry these boundaries, so a document embedded in pieces gets exactly the chunks of one piece.
 */
export function chunkDocument(
  items: readonly TextItem[],
  counter: TokenCounter,
  settings: { chunkMaxTokens?: number; chunkOverlapTokens: number },
): { chunks: PlannedChunk[]; chunking: Chunking } {
  const maxTokens = Math.min(settings.chunkMaxTokens ?? Number.POSITIVE_INFINITY, counter.maxContentTokens);
  const chunks: PlannedChunk[] = [];
  for (const entry of items) {
    for (const chunk of chunkText(entry.text, (piece) => counter.countContentTokens(piece), {
      maxTokens,
      overlapTokens: settings.chunkOverlapTokens,
    })) {
      chunks.push({
        ...(entry.item === undefined ? {} : { item: entry.item }),
        ...provenanceOf(entry),
        start: chunk.start,
        end: chunk.end,
        tokens: chunk.tokens,
      });
    }
  }
  return { chunks, chunking: { max_tokens: maxTokens, overlap_tokens: settings.chunkOverlapTokens } };
}

/** Where an item sits in its source, for a reader of the output: its PDF page or CSV row, when it has one. */
function provenanceOf(entry: TextItem | undefined): Pick<PlannedChunk, 'page' | 'row'> {
  return { ...(entry?.page === undefined ? {} : { page: entry.page }), ...(entry?.row === undefined ? {} : { row: entry.row }) };
}

/**
 * A planned chunk with its item's page or row again: part messages carry only the item's
 * position (the part's worker reads the source anew, so the rest is known there).
 */
export function withProvenance(chunk: PlannedChunk, byItem: ReadonlyMap<number, TextItem>): PlannedChunk {
  return chunk.item === undefined ? chunk : { ...chunk, ...provenanceOf(byItem.get(chunk.item)) };
}

/** The text of a chunk: a slice of its item's text (or of the whole text). */
export function chunkTextOf(items: readonly TextItem[], chunk: PlannedChunk, byItem: ReadonlyMap<number, TextItem>): string {
  const entry = chunk.item === undefined ? items[0] : byItem.get(chunk.item);
  return entry ? entry.text.slice(chunk.start, chunk.end) : '';
}

/** Items by their position in the file (empty items are left out of a document's items). */
export function itemsByPosition(items: readonly TextItem[]): Map<number, TextItem> {
  return new Map(items.flatMap((entry) => (entry.item === undefined ? [] : [[entry.item, entry] as const])));
}

/** How often, at most, a long embedding asks whether its source is still the version it embeds. */
export const SOURCE_CHECK_EVERY_MS = 5000;

/**
 * Embeds chunks in slices of about `sliceTokens`, in order, while the invocation's time allows:
 * before each slice the pace says how many tokens fit before the deadline. Returns the outputs of the
 * chunks done (all of them, or a prefix the caller continues elsewhere). With `stillCurrent`, asked
 * between slices at most every SOURCE_CHECK_EVERY_MS, it stops early once that says the source changed.
 */
export async function embedChunks(
  texts: readonly string[],
  chunks: readonly PlannedChunk[],
  embedder: Extract<DocumentEmbedder, { reads: 'texts' }>,
  work: WorkContext,
  sliceTokens: number,
  stillCurrent?: () => Promise<boolean>,
): Promise<ChunkOutput[]> {
  const outputs: ChunkOutput[] = [];
  let next = 0;
  let checked = performance.now();
  while (next < chunks.length) {
    if (stillCurrent && next > 0 && performance.now() - checked >= SOURCE_CHECK_EVERY_MS) {
      if (!(await stillCurrent())) break;
      checked = performance.now();
    }
    // A slice as large as fits in the time left (a smaller one near the deadline, so every
    // invocation moves on), at most sliceTokens; nothing when not even one chunk fits.
    const limit = Math.min(Math.max(sliceTokens, chunks[next].tokens), work.pace.tokensBefore(work.deadline));
    let end = next;
    let tokens = 0;
    while (end < chunks.length && tokens + chunks[end].tokens <= limit) tokens += chunks[end++].tokens;
    if (end === next) break;
    const started = performance.now();
    const embedded = await embedder.embed(texts.slice(next, end));
    work.pace.record(tokens, performance.now() - started);
    embedded.forEach((result, offset) => {
      const chunk = chunks[next + offset];
      outputs.push({
        ...(chunk.item === undefined ? {} : { item: chunk.item }),
        ...(chunk.page === undefined ? {} : { page: chunk.page }),
        ...(chunk.row === undefined ? {} : { row: chunk.row }),
        start: chunk.start,
        end: chunk.end,
        tokens: result.tokens,
        ...(result.vector ? { vector: result.vector } : { sparse: result.sparse }),
      });
    });
    next = end;
  }
  return outputs;
}
