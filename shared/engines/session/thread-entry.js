// @ts-check
/**
 * The session thread: opens one ONNX Runtime session and runs it for the thread that started it
 * (on-thread.ts). Plain JavaScript on purpose: a TypeScript entry makes the thread load
 * Node's type stripper first, about 100 ms more cold start.
 *
 * In: workerData `{ modelPath, options }`, then messages `{ id, feeds: { name: { type, data, dims } }, fetches }`.
 * Out: `{ kind: 'ready', inputNames, outputNames, shapes }` or `{ kind: 'failed', error }` once, then per run
 * `{ kind: 'result', id, outputs: { name: { data, dims } } }` (buffers transferred) or `{ kind: 'error', id, error }`.
 */
import { createRequire } from 'node:module';
import { parentPort, workerData } from 'node:worker_threads';
import { modelFileToLoad } from './model-file.js';

// onnxruntime-node is CommonJS: require() loads it in about half the time of import(), which
// would go through the ES module loader's CommonJS translation (cold start).
/** @type {typeof import('onnxruntime-node')} */
const { env, InferenceSession, Tensor } = createRequire(import.meta.url)('onnxruntime-node');

/** @param {unknown} error */
const serialize = (error) =>
  error instanceof Error ? { name: error.name, message: error.message } : { name: 'Error', message: String(error) };

const port = parentPort;
if (port) {
  try {
    const session = await InferenceSession.create(modelFileToLoad(workerData.modelPath, env.versions.node ?? ''), workerData.options);
    /** @type {Record<string, readonly (number | string)[]>} */
    const shapes = {};
    for (const value of [...session.inputMetadata, ...session.outputMetadata]) if (value.isTensor) shapes[value.name] = value.shape;
    port.postMessage({ kind: 'ready', inputNames: session.inputNames, outputNames: session.outputNames, shapes });
    port.on(
      'message',
      async (
        /** @type {{ id: number, feeds: Record<string, { type: 'int64' | 'float32', data: BigInt64Array | Float32Array, dims: number[] }>, fetches: string[] }} */ request,
      ) => {
        try {
          /** @type {Record<string, import('onnxruntime-node').Tensor>} */
          const feeds = {};
          for (const [name, input] of Object.entries(request.feeds)) feeds[name] = new Tensor(input.type, input.data, input.dims);
          const results = await session.run(feeds, request.fetches);
          /** @type {Record<string, { data: unknown, dims: readonly number[] }>} */
          const outputs = {};
          /** @type {Set<ArrayBuffer>} */
          const buffers = new Set();
          for (const [name, tensor] of Object.entries(results)) {
            const data = /** @type {Float32Array} */ (tensor.data);
            outputs[name] = { data, dims: tensor.dims };
            if (data.byteOffset === 0 && data.byteLength === data.buffer.byteLength) buffers.add(/** @type {ArrayBuffer} */ (data.buffer));
          }
          port.postMessage({ kind: 'result', id: request.id, outputs }, [...buffers]);
        } catch (error) {
          port.postMessage({ kind: 'error', id: request.id, error: serialize(error) });
        }
      },
    );
  } catch (error) {
    port.postMessage({ kind: 'failed', error: serialize(error) });
  }
}
