import { rename, rm } from 'node:fs/promises';
import * as ort from 'onnxruntime-node';
import { externalDataOf, optimizedModelPath } from './model-file.js';
import { ortSessionOptions } from './ort-options.ts';

export type OptimizeOutcome = { readonly saved: string } | { readonly skipped: string };

/** The optimised graph of a model file for this ONNX Runtime (whether or not it exists yet). */
export function optimizedGraphOf(modelPath: string): string {
  return optimizedModelPath(modelPath, ort.env.versions.node ?? '');
}

/**
 * Saves the model's graph after ONNX Runtime's portable ("extended") optimisations beside the
 * model (see model-file.js). Only the portable level is saved: the layout optimisations of
 * level "all" depend on the CPU, and every session still applies them when it loads the graph.
 * Models with external weight files are skipped (the saved graph would inline them).
 */
export async function saveOptimizedModel(modelPath: string): Promise<OptimizeOutcome> {
  if (externalDataOf(modelPath)) return { skipped: 'the model keeps its weights in an external data file' };
  const target = optimizedGraphOf(modelPath);
  // Written under another name and renamed, so a session never loads a half-written graph.
  const partial = `${target}.partial`;
  try {
    const session = await ort.InferenceSession.create(modelPath, {
      ...ortSessionOptions({ intraOpThreads: 1, spinning: false }),
      graphOptimizationLevel: 'extended',
      optimizedModelFilePath: partial,
    });
    await session.release();
    await rename(partial, target);
    return { saved: target };
  } catch (error) {
    await rm(partial, { force: true });
    return { skipped: `it could not be saved (${(error as Error).message})` };
  }
}
