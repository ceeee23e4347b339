/**
 * The ONNX Runtime session every engine runs on, behind one small interface with two hosts: a
 * worker thread (the default) or this thread. onnxruntime-node's `run` is synchronous under its
 * promise: on this thread it blocks the event loop for the whole model run, so S3 reads, image
 * decoding and the next batch's preparation all wait. On a worker thread they overlap the run,
 * and the session is created while this thread loads the rest (faster cold start).
 */
import { openSessionPool } from './session-pool.ts';
import { openThreadedSession } from './threaded-session.ts';

/** An input: int64 token ids / masks or float32 pixels. Its buffer is handed over (detached) on run. */
export interface InputTensor {
  readonly type: 'int64' | 'float32';
  readonly data: BigInt64Array | Float32Array;
  readonly dims: readonly number[];
}

/** An output as the engines read it: flat data (row-major) and its shape. */
export interface OutputTensor {
  readonly data: Float32Array;
  readonly dims: readonly number[];
  /** Releases ONNX Runtime's buffer early (a no-op for outputs that came from the session thread). */
  dispose(): void;
}

export interface Session {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  /** Runs that proceed at once (the sessions of a pool); callers keep this many in flight. */
  readonly parallelism: number;
  run(feeds: Readonly<Record<string, InputTensor>>, fetches: readonly string[]): Promise<Record<string, OutputTensor>>;
  release(): Promise<void>;
}

export interface SessionOptions {
  /** Threads inside one operator; Lambda gives about one vCPU per 1769 MB, so this follows the host. */
  readonly intraOpThreads: number;
  /** Run the session on a worker thread (`ORT_SESSION_THREAD`, default true). */
  readonly thread: boolean;
  /** Idle intra-op threads spin-wait for work (`ORT_INTRA_OP_SPINNING`); see session-options.ts. */
  readonly spinning: boolean;
  /** Sessions side by side, each on its own thread (`ORT_SESSIONS`); more than one needs `thread`. */
  readonly sessions: number;
}

/**
 * Opens one ONNX Runtime session. One per process: sessions are expensive to create (graph
 * optimisation, weight prepacking) and cheap to reuse.
 */
export async function createSession(modelPath: string, options: SessionOptions): Promise<Session> {
  // The thread starts in this call (no dynamic import to wait for); onnxruntime-node itself loads there.
  if (options.thread && options.sessions > 1) return openSessionPool(modelPath, options, options.sessions);
  if (options.thread) return openThreadedSession(modelPath, options);
  return (await import('./ort-session.ts')).openOrtSession(modelPath, options);
}

/** Models up to this size get two sessions by default; larger ones one (their weights are held per session). */
const POOLED_MODEL_BYTES = 1024 ** 3;

/**
 * Sessions and threads for a model: what the configuration sets, else the cores shared by up to two
 * single-threaded sessions running batches side by side rather than one session with every core
 * inside each operator (MiniLM-L6 on 2 cores ran 1.14-1.26x faster so: BENCHMARKS.md, "Session
 * settings"), for the weights once more in memory; one session for models over 1 GiB or without
 * the session thread. Pure.
 * @example resolveSessionOptions({ thread: true, spinning: true }, 90e6, 2) // { sessions: 2, intraOpThreads: 1, ... }
 */
export function resolveSessionOptions(
  runtime: { readonly sessions?: number; readonly intraOpThreads?: number; readonly thread: boolean; readonly spinning: boolean },
  modelBytes: number,
  cores: number,
): SessionOptions {
  const sessions = runtime.sessions ?? (runtime.thread && cores >= 2 && modelBytes <= POOLED_MODEL_BYTES ? 2 : 1);
  return {
    sessions,
    intraOpThreads: runtime.intraOpThreads ?? Math.max(1, Math.floor(cores / sessions)),
    thread: runtime.thread,
    spinning: runtime.spinning,
  };
}

/** An int64 `[rows, cols]` tensor from a filled BigInt64Array. */
export function int64Tensor(data: BigInt64Array, rows: number, cols: number): InputTensor {
  return { type: 'int64', data, dims: [rows, cols] };
}
