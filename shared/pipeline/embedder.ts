import { coalesce } from '../engines/batching/coalesce.ts';
import type { Engine, TokenCounter } from '../engines/types.ts';
import type { SparseVector } from '../math/sparse.ts';
import { toNumberArray } from '../math/vector.ts';
import { UnsupportedFileTypeError } from './errors.ts';

/** One embedded text chunk or image: a dense vector or a sparse one, and its token count. */
export interface Embedded {
  readonly vector?: number[];
  readonly sparse?: SparseVector;
  readonly tokens: number;
}

/**
 * The worker's view of the engine: texts and images in, vectors out, with concurrent callers
 * merged into shared token-budget batches (see coalesce).
 */
export interface PipelineEmbedder {
  readonly tokens?: TokenCounter;
  embedTexts(texts: string[]): Promise<Embedded[]>;
  embedImages(images: Uint8Array[]): Promise<Embedded[]>;
}

export function createPipelineEmbedder(engine: Engine): PipelineEmbedder {
  const notFor = (what: string) => () =>
    Promise.reject(new UnsupportedFileTypeError(`The ${engine.type} model ${engine.spec.id} does not embed ${what}.`));
  switch (engine.type) {
    case 'text':
      return {
        tokens: engine.tokens,
        // Chunks already fit the model; truncation is only a guard against tokenizer edge cases.
        embedTexts: coalesce(async (texts: string[]) => {
          const result = await engine.embed(texts, { truncate: true, inputType: 'passage' });
          return result.embeddings.map((vector, index) => ({ vector: toNumberArray(vector), tokens: result.counts[index] }));
        }),
        embedImages: notFor('images'),
      };
    case 'sparse':
      return {
        tokens: engine.tokens,
        embedTexts: coalesce(async (texts: string[]) => {
          const result = await engine.embed(texts, { truncate: true, inputType: 'passage' });
          return result.vectors.map((sparse, index) => ({ sparse, tokens: result.counts[index] }));
        }),
        embedImages: notFor('images'),
      };
    case 'image':
      return {
        embedTexts: notFor('text'),
        embedImages: coalesce(async (images: Uint8Array[]) => {
          const result = await engine.embed(images);
          return result.embeddings.map((vector) => ({ vector: toNumberArray(vector), tokens: 0 }));
        }),
      };
    case 'rerank':
      return { embedTexts: notFor('files (a rerank model scores query/document pairs)'), embedImages: notFor('images') };
  }
}
