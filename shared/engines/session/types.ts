/**
 * The ONNX Runtime session every engine runs on, behind one small interface with two hosts: a
 * worker thread (the default) or this thread. onnxruntime-node's `run` is synchronous under its
 * promise: on this thread it blocks the event loop for the whole model run, so S3 reads, image
 * decoding and the next batch's preparation all wait. On a worker thread they overlap the run,
 * and the session is created while this thread loads the rest (faster cold start).
 *
 * Hosts: on-thread.ts (one session on a worker thread, thread-entry.js), pool.ts (several of
 * those), in-process.ts (this thread); open.ts picks one, sizing.ts decides how many.
 */

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

/** A tensor's shape as the model declares it: numbers for fixed sizes, names (`batch_size`) for dynamic ones. */
export type DeclaredShape = readonly (number | string)[];

/** What the caller knows about a run that a pool can use to place it. */
export interface RunHint {
  /**
   * The request would finish sooner on one session with every core than spread over the pool's
   * single-threaded ones (one input, or one long input beside short ones): see runInBatches.
   */
  readonly wide?: boolean;
}

export interface Session {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  /** Declared shapes by input and output name (what the cold-start contract checks read). */
  readonly shapes: Readonly<Record<string, DeclaredShape>>;
  /** Runs that proceed at once (the sessions of a pool); callers keep this many in flight. */
  readonly parallelism: number;
  /** True when a pool's wide session (every core) is open and takes runs hinted `wide`. */
  readonly wideReady?: boolean;
  run(feeds: Readonly<Record<string, InputTensor>>, fetches: readonly string[], hint?: RunHint): Promise<Record<string, OutputTensor>>;
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
  /**
   * Threads of a pool's wide session, which runs a request's only run (one text) with every core
   * (`ORT_WIDE_SESSION`); 0 for none. Opened on the first such run.
   */
  readonly wideThreads: number;
}
