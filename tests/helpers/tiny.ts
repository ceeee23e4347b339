import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ModelSpec } from '../../shared/models/types.ts';
import { buildTinyModel } from '../fixtures/tiny-models.ts';

export type TinyKind = 'text' | 'sparse' | 'rerank' | 'image';

/** Builds a tiny model folder in a fresh temp dir; `cleanup` removes it. */
export async function tinyModel(
  kind: TinyKind,
  options?: Parameters<typeof buildTinyModel>[2],
): Promise<{ dir: string; cleanup(): Promise<void> }> {
  const root = await mkdtemp(join(tmpdir(), `vectorizer-${kind}-`));
  const dir = join(root, `tiny-${kind}`);
  await buildTinyModel(kind, dir, options);
  return { dir, cleanup: () => rm(root, { recursive: true, force: true }) };
}

/** Asserts a promise rejects with a VectorizerError of this code; returns it for more checks. */
export async function rejectsWithCode(
  promise: Promise<unknown>,
  code: string,
): Promise<{ code: string; statusCode: number; message: string }> {
  try {
    await promise;
  } catch (error) {
    const failure = error as { code: string; statusCode: number; message: string };
    if (failure.code !== code) throw new Error(`expected ${code}, got ${failure.code}: ${failure.message}`);
    return failure;
  }
  throw new Error(`expected a ${code} error, but the call succeeded`);
}

/** A text model's spec for tests of the index alone (nothing is loaded from `dir`). */
export function indexTestSpec(dimension: number): ModelSpec {
  return {
    id: 'test/model',
    type: 'text',
    dir: '/nowhere',
    file: 'onnx/model.onnx',
    dimension,
    pooling: 'mean',
    normalize: true,
    maxTokens: 16,
    prefixes: {},
    matryoshka: null,
    inputs: [],
    output: { onlyOne: true, names: [] },
    sparseHead: null,
    fromCatalog: false,
  };
}
