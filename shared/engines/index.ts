import { join } from 'node:path';
import type { ModelType } from '../models/types.ts';
import { createSession } from './session/open.ts';
import type { Engine, EngineOptions, EngineParts } from './types.ts';

/**
 * Model type -> engine factory. Frozen: adding a type means adding an engine file and a line here.
 * Each engine module is imported on use, so a text model's cold start never loads sharp and the
 * image code, and an image model's never loads the tokenizer path it does not need.
 */
export const ENGINE_FACTORIES: Readonly<Record<ModelType, (parts: EngineParts) => Promise<Engine>>> = Object.freeze({
  text: async (parts: EngineParts) => (await import('./text.ts')).createTextEngine(parts),
  image: async (parts: EngineParts) => (await import('./image.ts')).createImageEngine(parts),
  sparse: async (parts: EngineParts) => (await import('./sparse.ts')).createSparseEngine(parts),
  rerank: async (parts: EngineParts) => (await import('./rerank.ts')).createRerankEngine(parts),
});

/**
 * Opens the engine for the resolved model: tokenizer or processor plus one ONNX Runtime session.
 * The session (the slow part) starts opening first, on its own thread, while the engine's code
 * and tokenizer load here.
 */
export async function createEngine(options: EngineOptions): Promise<Engine> {
  const opening = createSession(join(options.spec.dir, options.spec.file), options.session);
  try {
    return await ENGINE_FACTORIES[options.spec.type]({ ...options, opening });
  } catch (error) {
    await opening.then((session) => session.release()).catch(() => undefined);
    throw error;
  }
}

export type { Engine, EngineOptions } from './types.ts';
