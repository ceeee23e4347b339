import type { ModelType } from '../models/types.ts';
import type { Engine, EngineOptions } from './types.ts';

/**
 * Model type -> engine factory. Frozen: adding a type means adding an engine file and a line here.
 * Each engine module is imported on use, so a text model's cold start never loads sharp and the
 * image code, and an image model's never loads the tokenizer path it does not need.
 */
export const ENGINE_FACTORIES: Readonly<Record<ModelType, (options: EngineOptions) => Promise<Engine>>> = Object.freeze({
  text: async (options: EngineOptions) => (await import('./text.ts')).createTextEngine(options),
  image: async (options: EngineOptions) => (await import('./image.ts')).createImageEngine(options),
  sparse: async (options: EngineOptions) => (await import('./sparse.ts')).createSparseEngine(options),
  rerank: async (options: EngineOptions) => (await import('./rerank.ts')).createRerankEngine(options),
});

/** Opens the engine for the resolved model: tokenizer or processor plus one ONNX Runtime session. */
export function createEngine(options: EngineOptions): Promise<Engine> {
  return ENGINE_FACTORIES[options.spec.type](options);
}

export type { Engine, EngineOptions } from './types.ts';
