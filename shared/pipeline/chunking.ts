/**
 * Splits long texts into chunks that fit the model, by tokens, at word boundaries, with an
 * overlap. Pure: token counts come from a callback (the model's tokenizer in production).
 */

export interface Chunk {
  /** Character offsets into the text: `text.slice(start, end)` is the chunk. */
  readonly start: number;
  readonly end: number;
  /** Content tokens of the chunk: the sum of its words' counts. */
  readonly tokens: number;
}

export interface ChunkOptions {
  /** Content tokens per chunk (the model's limit minus its special tokens). */
  readonly maxTokens: number;
  /** Content tokens repeated at the start of the next chunk. Must be below maxTokens. */
  readonly overlapTokens: number;
}

interface Word {
  start: number;
  end: number;
  tokens: number;
}

/**
 * Cuts `text` into chunks of at most `maxTokens` content tokens. Whitespace-separated words are
 * never split unless one word alone is longer than a chunk (then it is cut by characters).
 *
 * @param countTokens content-token count of a piece of text (no special tokens).
 * @example chunkText('a b c d', (w) => 1, { maxTokens: 2, overlapTokens: 1 }) // [0,3], [2,5], [4,7]
 */
export function chunkText(text: string, countTokens: (piece: string) => number, options: ChunkOptions): Chunk[] {
  if (options.maxTokens < 1) throw new RangeError('chunkText: maxTokens must be >= 1');
  const overlap = Math.min(Math.max(options.overlapTokens, 0), options.maxTokens - 1);
  const words = splitWords(text, countTokens, options.maxTokens);
  if (words.length === 0) return [];
  const chunks: Chunk[] = [];
  let first = 0;
  while (first < words.length) {
    let last = first;
    let tokens = words[first].tokens;
    while (last + 1 < words.length && tokens + words[last + 1].tokens <= options.maxTokens) {
      last++;
      tokens += words[last].tokens;
    }
    chunks.push({ start: words[first].start, end: words[last].end, tokens });
    if (last === words.length - 1) break;
    // Step back over whole words worth at most `overlap` tokens, always moving forward.
    let next = last + 1;
    let carried = 0;
    while (next - 1 > first && carried + words[next - 1].tokens <= overlap) {
      next--;
      carried += words[next].tokens;
    }
    first = next;
  }
  return chunks;
}

function splitWords(text: string, countTokens: (piece: string) => number, maxTokens: number): Word[] {
  const words: Word[] = [];
  for (const match of text.matchAll(/\S+/g)) {
    const start = match.index;
    const end = start + match[0].length;
    const tokens = countTokens(match[0]);
    if (tokens <= maxTokens) {
      words.push({ start, end, tokens });
      continue;
    }
    // A single "word" longer than a chunk (a URL, base64, CJK run): cut it by characters.
    const piece = Math.max(1, Math.floor((match[0].length * maxTokens) / tokens));
    for (let offset = start; offset < end; offset += piece) {
      const pieceEnd = Math.min(end, offset + piece);
      words.push({ start: offset, end: pieceEnd, tokens: Math.min(maxTokens, countTokens(text.slice(offset, pieceEnd))) });
    }
  }
  return words;
}
