import { join } from 'node:path';
import type { EngineParts, TextOptions, TextUsage, TokenCounter } from '../kinds/types.ts';
import type { BatchLimits } from './batching/plan.ts';
import { runInBatches } from './batching/run.ts';
import { checkInputs, type ModelLabel, selectOutput } from './session/contract.ts';
import type { OutputTensor, Session } from './session/types.ts';
import { type BatchTensors, type Encoding, feedsFor, TextTokenizer, toBatchTensors } from './tokenizer.ts';

/** The prefix a model wants for this kind of input (e5 `query: `, nomic `search_document: `). */
export function applyPrefix(texts: readonly string[], prefix: string | undefined): readonly string[] {
  return prefix ? texts.map((text) => prefix + text) : texts;
}

/** Token totals of a set of encodings. */
export function usageOf(encodings: Encoding[]): { encodings: Encoding[] } & TextUsage {
  const counts = encodings.map((encoding) => encoding.ids.length);
  return {
    encodings,
    counts,
    tokens: counts.reduce((sum, count) => sum + count, 0),
    truncated: encodings.flatMap((encoding, index) => (encoding.truncated ? [index] : [])),
  };
}

/** What the text, sparse and rerank engines share: tokenizer, session, token-budget runs. */
export interface TextModel {
  readonly tokenizer: TextTokenizer;
  readonly session: Session;
  /** The output the engine reads (the contract's rule applied to the model's outputs). */
  readonly outputName: string;
  /** How the model is named in errors. */
  readonly label: ModelLabel;
  readonly tokens: TokenCounter;
  /** Encodes texts with the model's prefix for `inputType`, truncating or rejecting per options. */
  encodeTexts(texts: readonly string[], options: TextOptions): { encodings: Encoding[] } & TextUsage;
  /** Encodes one `(query, document)` pair per document (cross-encoders), truncating or rejecting per options. */
  encodePairs(query: string, documents: readonly string[], options: TextOptions): { encodings: Encoding[] } & TextUsage;
  /**
   * Runs encodings in token-budget batches; `read` turns each batch's output into one result per
   * row (the output tensor is released right after). Results come back in the encodings' order.
   */
  runBatches<Result>(
    encodings: readonly Encoding[],
    limits: BatchLimits,
    read: (output: OutputTensor, tensors: BatchTensors) => Result[],
  ): Promise<Result[]>;
}

/**
 * Opens the tokenizer and the ONNX session of a text-input model (text, sparse, rerank) and checks
 * the model's inputs and output against its contract (spec.inputs, spec.output).
 */
export async function openTextModel(options: EngineParts): Promise<TextModel> {
  const { spec } = options;
  const label = { id: spec.id, path: join(spec.dir, spec.file) };
  const [tokenizer, session] = await Promise.all([TextTokenizer.load(spec.dir, spec.maxTokens), options.opening]);
  const inputNames = checkInputs(session, spec.inputs, label);
  const outputName = selectOutput(session, spec.output, label);
  return {
    tokenizer,
    session,
    outputName,
    label,
    tokens: { countContentTokens: (text: string) => tokenizer.tokenize(text).length, maxContentTokens: tokenizer.maxContentTokens },
    encodeTexts(texts, textOptions) {
      const prefixed = applyPrefix(texts, textOptions.inputType ? spec.prefixes[textOptions.inputType] : undefined);
      return usageOf(prefixed.map((text, index) => tokenizer.encode(text, textOptions.truncate, index)));
    },
    encodePairs(query, documents, textOptions) {
      return usageOf(documents.map((document, index) => tokenizer.encodePair(query, document, textOptions.truncate, index)));
    },
    runBatches(encodings, limits, read) {
      return runInBatches(
        encodings,
        (encoding) => encoding.ids.length,
        limits,
        {
          prepare: (batch) => toBatchTensors(batch, tokenizer.padId),
          async run(tensors, hint) {
            const outputs = await session.run(feedsFor(tensors, inputNames), [outputName], hint);
            const output = outputs[outputName];
            try {
              return read(output, tensors);
            } finally {
              output.dispose();
            }
          },
        },
        session,
      );
    },
  };
}
