/**
 * The session thread: opens one ONNX Runtime session and runs it for the thread that started it.
 * Messages in: `{ id, feeds, fetches }`; out: `{ id, outputs }` or `{ id, error }`. Output buffers
 * are transferred, not copied. Started by threaded-session.ts.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { openOrtSession } from './ort-session.ts';
import type { InputTensor } from './session.ts';

export interface RunRequest {
  readonly id: number;
  readonly feeds: Record<string, InputTensor>;
  readonly fetches: string[];
}

export interface SerializedError {
  readonly name: string;
  readonly message: string;
}

export type ThreadMessage =
  | { readonly kind: 'ready'; readonly inputNames: readonly string[]; readonly outputNames: readonly string[] }
  | { readonly kind: 'failed'; readonly error: SerializedError }
  | { readonly kind: 'result'; readonly id: number; readonly outputs: Record<string, { data: Float32Array; dims: readonly number[] }> }
  | { readonly kind: 'error'; readonly id: number; readonly error: SerializedError };

const serialize = (error: unknown): SerializedError =>
  error instanceof Error ? { name: error.name, message: error.message } : { name: 'Error', message: String(error) };

const port = parentPort;
if (port) {
  const { modelPath, intraOpThreads } = workerData as { modelPath: string; intraOpThreads: number };
  try {
    const session = await openOrtSession(modelPath, intraOpThreads);
    port.postMessage({ kind: 'ready', inputNames: session.inputNames, outputNames: session.outputNames } satisfies ThreadMessage);
    port.on('message', async (request: RunRequest) => {
      try {
        const outputs = await session.run(request.feeds, request.fetches);
        const plain: Record<string, { data: Float32Array; dims: readonly number[] }> = {};
        const buffers = new Set<ArrayBuffer>();
        for (const [name, tensor] of Object.entries(outputs)) {
          plain[name] = { data: tensor.data, dims: tensor.dims };
          buffers.add(tensor.data.buffer as ArrayBuffer);
        }
        port.postMessage({ kind: 'result', id: request.id, outputs: plain } satisfies ThreadMessage, [...buffers]);
      } catch (error) {
        port.postMessage({ kind: 'error', id: request.id, error: serialize(error) } satisfies ThreadMessage);
      }
    });
  } catch (error) {
    port.postMessage({ kind: 'failed', error: serialize(error) } satisfies ThreadMessage);
  }
}
