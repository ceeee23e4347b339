// @ts-check
/**
 * The model graph as ONNX Runtime saves it after its portable ("extended") optimisations: node
 * fusions and constant folding that every session would otherwise redo at each cold start (about
 * a fifth of session creation for MiniLM). `vectorizer warmup` writes it beside the model when
 * the image is built; sessions load it when it is there. Plain JavaScript: the session thread
 * (thread-entry.js) imports it.
 */
import { existsSync, statSync } from 'node:fs';

/**
 * The file holding a model's weights outside the ONNX file (`model.onnx_data` or
 * `model.onnx.data`), or undefined when they are inside it.
 * @param {string} modelPath
 */
export function externalDataOf(modelPath) {
  return [`${modelPath}_data`, `${modelPath}.data`].find((candidate) => existsSync(candidate));
}

/**
 * Where the optimised graph of a model lives. The ONNX Runtime version is in the name, so a new
 * runtime never loads a graph an older one saved.
 * @param {string} modelPath
 * @param {string} ortVersion
 * @example optimizedModelPath('/opt/model/onnx/model.onnx', '1.30.0') // '/opt/model/onnx/model.optimized-ort1.30.0.onnx'
 */
export function optimizedModelPath(modelPath, ortVersion) {
  return `${modelPath.replace(/\.onnx$/i, '')}.optimized-ort${ortVersion}.onnx`;
}

/**
 * The file a session should load: the optimised graph when it exists and is not older than the
 * model (a replaced model makes it stale), else the model itself.
 * @param {string} modelPath
 * @param {string} ortVersion
 */
export function modelFileToLoad(modelPath, ortVersion) {
  const optimized = optimizedModelPath(modelPath, ortVersion);
  try {
    if (statSync(optimized).mtimeMs >= statSync(modelPath).mtimeMs) return optimized;
  } catch {
    // No optimised graph (or no model, which the session reports with the model's own path).
  }
  return modelPath;
}
