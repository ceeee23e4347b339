import type { ModelType } from '../models/types.ts';
import { createImageEngine } from './image.ts';
import { createRerankEngine } from './rerank.ts';
import { createSparseEngine } from './sparse.ts';
import { createTextEngine } from './text.ts';
import type { Engine, EngineOptions } from './types.ts';

/** Model type -> engine factory. Frozen: adding a type means adding an engine file and a line here. */
export const ENGINE_FACTORIES: Readonly<Record<ModelType, (options: EngineOptions) => Promise<Engine>>> = Object.freeze({
  text: createTextEngine,
  image: createImageEngine,
  sparse: createSparseEngine,
  rerank: createRerankEngine,
});

/** Opens the engine for the resolved model: tokenizer or processor plus one ONNX Runtime session. */
export function createEngine(options: EngineOptions): Promise<Engine> {
  return ENGINE_FACTORIES[options.spec.type](options);
}

export type { Engine, EngineOptions } from './types.ts';
