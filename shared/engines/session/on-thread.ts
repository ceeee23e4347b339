import { Worker } from 'node:worker_threads';
import { DependencyError } from '../../errors.ts';
import { ortSessionOptions } from './ort-options.ts';
import type { DeclaredShape, InputTensor, OutputTensor, Session, SessionOptions } from './types.ts';

const THREAD_URL = new URL('./thread-entry.js', import.meta.url);

interface SerializedError {
  readonly name: string;
  readonly message: string;
}

/** What thread-entry.js posts back. */
type ThreadMessage =
  | {
      readonly kind: 'ready';
      readonly inputNames: readonly string[];
      readonly outputNames: readonly string[];
      readonly shapes: Record<string, DeclaredShape>;
    }
  | { readonly kind: 'failed'; readonly error: SerializedError }
  | { readonly kind: 'result'; readonly id: number; readonly outputs: Record<string, { data: Float32Array; dims: readonly number[] }> }
  | { readonly kind: 'error'; readonly id: number; readonly error: SerializedError };

interface Pending {
  resolve(outputs: Record<string, OutputTensor>): void;
  reject(error: Error): void;
}

interface Host {
  readonly worker: Worker;
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  readonly shapes: Record<string, DeclaredShape>;
}

function rebuild(error: SerializedError): Error {
  return Object.assign(new Error(error.message), { name: error.name });
}

/** Each distinct whole buffer once: those move to the thread; views into shared buffers are copied. */
function transferable(feeds: Readonly<Record<string, InputTensor>>): ArrayBuffer[] {
  const buffers = new Set<ArrayBuffer>();
  for (const { data } of Object.values(feeds)) {
    if (data.byteOffset === 0 && data.byteLength === data.buffer.byteLength) buffers.add(data.buffer as ArrayBuffer);
  }
  return [...buffers];
}

/**
 * A session on its own worker thread. Runs are queued in order; input buffers are transferred to
 * the thread and outputs transferred back. The thread keeps the process alive only while runs are
 * pending (and while it opens, unless opened in the `background`). If it dies (a native crash, out of memory), pending runs fail with a retryable
 * DependencyError and the next run starts a new thread and session.
 */
export async function openThreadedSession(
  modelPath: string,
  settings: Pick<SessionOptions, 'intraOpThreads' | 'spinning'>,
  { background = false }: { readonly background?: boolean } = {},
): Promise<Session> {
  const pending = new Map<number, Pending>();
  let nextId = 0;
  let current: Promise<Host> | undefined;
  let released = false;

  function settle(id: number, host: Host): Pending | undefined {
    const entry = pending.get(id);
    pending.delete(id);
    if (pending.size === 0) host.worker.unref();
    return entry;
  }

  function start(): Promise<Host> {
    const started = new Promise<Host>((resolve, reject) => {
      const worker = new Worker(THREAD_URL, { workerData: { modelPath, options: ortSessionOptions(settings) } });
      // A session opened in the background (a pool's later ones) does not keep the process alive
      // while it opens: a command that is done exits without waiting for it.
      if (background) worker.unref();
      let host: Host | undefined;
      let ended = false;
      worker.on('message', (message: ThreadMessage) => {
        switch (message.kind) {
          case 'ready':
            host = { worker, inputNames: message.inputNames, outputNames: message.outputNames, shapes: message.shapes };
            if (pending.size === 0) worker.unref();
            resolve(host);
            break;
          case 'failed':
            reject(rebuild(message.error));
            void worker.terminate();
            break;
          case 'result': {
            const outputs: Record<string, OutputTensor> = {};
            for (const [name, output] of Object.entries(message.outputs)) outputs[name] = { ...output, dispose() {} };
            settle(message.id, host as Host)?.resolve(outputs);
            break;
          }
          case 'error':
            settle(message.id, host as Host)?.reject(rebuild(message.error));
        }
      });
      const end = (reason: Error) => {
        if (ended) return;
        ended = true;
        reject(reason);
        if (current === started) current = undefined;
        const failure = released
          ? new DependencyError('The model session was released.')
          : new DependencyError(`The inference thread stopped (${reason.message}); retry the request.`, { cause: reason });
        for (const entry of pending.values()) entry.reject(failure);
        pending.clear();
      };
      worker.on('error', end);
      worker.on('exit', (code) => end(new Error(`exit code ${code}`)));
    });
    current = started;
    return started;
  }

  const first = await start();
  return {
    inputNames: first.inputNames,
    outputNames: first.outputNames,
    shapes: first.shapes,
    parallelism: 1,
    async run(feeds, fetches) {
      if (released) throw new DependencyError('The model session was released.');
      const host = await (current ?? start());
      const id = nextId++;
      return new Promise<Record<string, OutputTensor>>((resolve, reject) => {
        pending.set(id, { resolve, reject });
        host.worker.ref();
        host.worker.postMessage({ id, feeds, fetches: [...fetches] }, transferable(feeds));
      });
    },
    async release() {
      released = true;
      const host = await current?.catch(() => undefined);
      await host?.worker.terminate();
    },
  };
}
