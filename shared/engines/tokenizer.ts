import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Tokenizer } from '@huggingface/tokenizers';
import { InputTooLongError } from '../errors.ts';
import type { InputTensor } from './session/types.ts';

/** One tokenised input (a text, or a query/document pair), without padding. */
export interface Encoding {
  readonly ids: readonly number[];
  readonly typeIds: readonly number[];
  /** True when the input was cut to fit the model. */
  readonly truncated: boolean;
}

/**
 * Wraps a transformers.js tokenizer with what the engines need and the hub tokenizer.json files
 * get wrong for us: padding and truncation baked into tokenizer.json are ignored (the engines pad
 * per batch), and truncation happens at the model's limit, before special tokens are added, the
 * way Hugging Face tokenizers do it (longest-first for pairs).
 */
export class TextTokenizer {
  readonly maxTokens: number;
  readonly padId: number;
  private readonly unkId: number;
  private readonly inner: Tokenizer;
  /** Special tokens a single input gets ([CLS] and [SEP] for BERT). */
  readonly singleSpecials: number;
  private readonly pairSpecials: number;

  private readonly config: Record<string, unknown>;
  /** WordPiece's longest word (`max_input_chars_per_word`); longer runs are split before it sees them. */
  private readonly maxWordChars?: number;

  constructor(inner: Tokenizer, config: Record<string, unknown>, maxTokens: number, maxWordChars?: number) {
    this.inner = inner;
    this.config = config;
    this.maxWordChars = maxWordChars;
    this.maxTokens = maxTokens;
    this.padId = inner.token_to_id(specialToken(config.pad_token) ?? '[PAD]') ?? 0;
    this.unkId = inner.token_to_id(specialToken(config.unk_token) ?? '[UNK]') ?? 0;
    // Asked of the post-processor itself: encode('', { text_pair: '' }) would treat the empty pair as absent.
    this.singleSpecials = inner.post_processor ? inner.post_processor([], null).tokens.length : 0;
    this.pairSpecials = inner.post_processor ? inner.post_processor([], []).tokens.length : 0;
  }

  /**
   * Loads tokenizer.json and tokenizer_config.json with @huggingface/tokenizers, the tokenizer
   * engine of transformers.js 4 (AutoTokenizer builds the same object). Used directly because the
   * full transformers.js bundle costs about 280 ms of cold start and the engines need only this.
   */
  static async load(dir: string, maxTokens: number): Promise<TextTokenizer> {
    const [json, config] = await Promise.all(
      ['tokenizer.json', 'tokenizer_config.json'].map(
        async (file) => JSON.parse(await readFile(join(dir, file), 'utf8')) as Record<string, unknown>,
      ),
    );
    const modelLimit = Number(config.model_max_length);
    const limit = Number.isFinite(modelLimit) && modelLimit > 0 ? Math.min(maxTokens, modelLimit) : maxTokens;
    // Loaded here, not at the top: the kinds registry imports this module in image models' processes too.
    const { Tokenizer } = await import('@huggingface/tokenizers');
    const model = json.model as { type?: string; max_input_chars_per_word?: number } | undefined;
    const maxWordChars = model?.type === 'WordPiece' ? (model.max_input_chars_per_word ?? 100) : undefined;
    return new TextTokenizer(new Tokenizer(json, config), config, limit, maxWordChars);
  }

  /**
   * WordPiece turns a word longer than `max_input_chars_per_word` (100 for BERT) into one [UNK]:
   * a base64 blob, a hash or a minified line would vanish (a 2 MB line was 3 tokens). Such runs are
   * cut into pieces WordPiece reads, the same way in encoding and in counting, so they are
   * embedded and chunked like other text. Other tokenizers (BPE, Unigram) read long runs as they are.
   */
  private readable(text: string): string {
    const limit = this.maxWordChars;
    if (!limit || text.length <= limit) return text;
    const longRun = new RegExp(`[^\\s]{${limit + 1},}`, 'g');
    return text.replace(longRun, (run) => run.match(new RegExp(`[^]{1,${limit}}`, 'g'))?.join(' ') ?? run);
  }

  /** Content tokens one single input may hold. */
  get maxContentTokens(): number {
    return Math.max(this.maxTokens - this.singleSpecials, 1);
  }

  /** Content tokens (no special tokens) of a text, as strings. */
  tokenize(text: string): string[] {
    return this.inner.tokenize(this.readable(text), { add_special_tokens: false });
  }

  /**
   * Encodes one text. Over-long texts are truncated, or rejected when `truncate` is false.
   * @param index the input's position in the request, for the error message.
   */
  encode(text: string, truncate: boolean, index = 0): Encoding {
    const full = this.inner.encode(this.readable(text), { add_special_tokens: true, return_token_type_ids: true });
    if (full.ids.length <= this.maxTokens) {
      return { ids: full.ids, typeIds: full.token_type_ids ?? zeros(full.ids.length), truncated: false };
    }
    if (!truncate) throw this.tooLong(index, full.ids.length);
    const tokens = this.tokenize(text).slice(0, Math.max(this.maxTokens - this.singleSpecials, 0));
    return { ...this.withSpecials(tokens, null), truncated: true };
  }

  /** Encodes a (query, document) pair for a cross-encoder; longest-first truncation. */
  encodePair(query: string, document: string, truncate: boolean, index = 0): Encoding {
    const full = this.inner.encode(this.readable(query), {
      text_pair: this.readable(document),
      add_special_tokens: true,
      return_token_type_ids: true,
    });
    if (full.ids.length <= this.maxTokens) {
      return { ids: full.ids, typeIds: full.token_type_ids ?? zeros(full.ids.length), truncated: false };
    }
    if (!truncate) throw this.tooLong(index, full.ids.length);
    const queryTokens = this.tokenize(query);
    const documentTokens = this.tokenize(document);
    const [lengthA, lengthB] = longestFirstLengths(
      queryTokens.length,
      documentTokens.length,
      Math.max(this.maxTokens - this.pairSpecials, 0),
    );
    return { ...this.withSpecials(queryTokens.slice(0, lengthA), documentTokens.slice(0, lengthB)), truncated: true };
  }

  private withSpecials(tokens: string[], pair: string[] | null): { ids: number[]; typeIds: number[] } {
    const processed: { tokens: string[]; token_type_ids?: number[] } = this.inner.post_processor
      ? this.inner.post_processor(tokens, pair)
      : { tokens: pair ? [...tokens, ...pair] : tokens };
    const ids = processed.tokens.map((token: string) => this.inner.token_to_id(token) ?? this.unkId);
    return { ids, typeIds: processed.token_type_ids ?? zeros(ids.length) };
  }

  /**
   * Ids of the special tokens tokenizer_config.json names (`cls_token`, `eos_token`, ...) that the
   * vocabulary has; what BGE-M3's sparse head skips (`<s>`, `</s>`, `<pad>`, `<unk>` for XLM-R).
   */
  specialIds(names: readonly string[]): Set<number> {
    const ids = new Set<number>();
    for (const name of names) {
      const token = specialToken(this.config[name]);
      const id = token === undefined ? undefined : this.inner.token_to_id(token);
      if (id !== undefined && id !== null) ids.add(id);
    }
    return ids;
  }

  private tooLong(index: number, length: number): InputTooLongError {
    return new InputTooLongError(
      `Input ${index} has ${length} tokens; this model accepts at most ${this.maxTokens}. ` +
        'Shorten it, or omit "truncate": false to have it truncated.',
      { details: { index, tokens: length, max_tokens: this.maxTokens } },
    );
  }
}

/** A special token from tokenizer_config.json: a string, or `{ "content": ... }`. */
function specialToken(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object' && typeof (value as { content?: unknown }).content === 'string')
    return (value as { content: string }).content;
  return undefined;
}

function zeros(length: number): number[] {
  return new Array<number>(length).fill(0);
}

/**
 * Hugging Face tokenizers' longest-first rule: the shorter side keeps its length when it can,
 * the longer side gets the rest; when both exceed half, they split the budget evenly.
 */
export function longestFirstLengths(lengthA: number, lengthB: number, budget: number): [number, number] {
  if (lengthA + lengthB <= budget) return [lengthA, lengthB];
  const swap = lengthA > lengthB;
  let short = swap ? lengthB : lengthA;
  let long: number;
  if (short > budget) long = short;
  else long = Math.max(short, budget - short);
  if (short + long > budget) {
    short = Math.floor(budget / 2);
    long = short + (budget % 2);
  }
  return swap ? [long, short] : [short, long];
}

/** The int64 input tensors of one padded batch (right padding, mask 0 on padding). */
export interface BatchTensors {
  readonly input_ids: InputTensor;
  readonly attention_mask: InputTensor;
  readonly token_type_ids: InputTensor;
  /** Unpadded length of each row. */
  readonly lengths: number[];
  /** Each row's token ids (the tensors' buffers move to the session thread on run; these stay). */
  readonly tokenIds: readonly (readonly number[])[];
  readonly seq: number;
}

/** Pads the given encodings into `[rows, longest]` tensors. */
export function toBatchTensors(encodings: readonly Encoding[], padId: number): BatchTensors {
  const rows = encodings.length;
  const seq = Math.max(1, ...encodings.map((encoding) => encoding.ids.length));
  const ids = new BigInt64Array(rows * seq).fill(BigInt(padId));
  const mask = new BigInt64Array(rows * seq);
  const types = new BigInt64Array(rows * seq);
  encodings.forEach((encoding, row) => {
    const offset = row * seq;
    for (let t = 0; t < encoding.ids.length; t++) {
      ids[offset + t] = BigInt(encoding.ids[t]);
      mask[offset + t] = 1n;
      types[offset + t] = BigInt(encoding.typeIds[t] ?? 0);
    }
  });
  return {
    input_ids: int64Tensor(ids, rows, seq),
    attention_mask: int64Tensor(mask, rows, seq),
    token_type_ids: int64Tensor(types, rows, seq),
    lengths: encodings.map((encoding) => encoding.ids.length),
    tokenIds: encodings.map((encoding) => encoding.ids),
    seq,
  };
}

/** Only the inputs the model declares (some exports drop `token_type_ids`). */
export function feedsFor(tensors: BatchTensors, inputNames: readonly string[]): Record<string, InputTensor> {
  const feeds: Record<string, InputTensor> = {};
  for (const name of inputNames) {
    if (name === 'input_ids' || name === 'attention_mask' || name === 'token_type_ids') feeds[name] = tensors[name];
  }
  return feeds;
}

/** An int64 `[rows, cols]` tensor from a filled BigInt64Array. */
export function int64Tensor(data: BigInt64Array, rows: number, cols: number): InputTensor {
  return { type: 'int64', data, dims: [rows, cols] };
}
