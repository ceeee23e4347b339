import type { SessionOptions } from './types.ts';

/** Models up to this size get two sessions by default; larger ones one (their weights are held per session). */
const POOLED_MODEL_BYTES = 1024 ** 3;
/** Models up to this size also get the pool's wide session (a third copy of the weights) by default. */
const WIDE_MODEL_BYTES = 512 * 1024 ** 2;

/**
 * Sessions and threads for a model: what the configuration sets, else the cores shared by up to two
 * single-threaded sessions running batches side by side rather than one session with every core
 * inside each operator (MiniLM-L6 on 2 cores ran 1.14-1.26x faster so: BENCHMARKS.md, "Session
 * settings"), for the weights once more in memory; one session for models over 1 GiB or without
 * the session thread. A pool also gets a wide session (every core) for requests of one input, for
 * models up to 512 MiB, opened when the first such request comes. Pure.
 * @example resolveSessionOptions({ thread: true, spinning: true }, 90e6, 2) // { sessions: 2, intraOpThreads: 1, wideThreads: 2, ... }
 */
export function resolveSessionOptions(
  runtime: {
    readonly sessions?: number;
    readonly intraOpThreads?: number;
    readonly thread: boolean;
    readonly spinning: boolean;
    readonly wide?: boolean;
  },
  modelBytes: number,
  cores: number,
): SessionOptions {
  const sessions = runtime.sessions ?? (runtime.thread && cores >= 2 && modelBytes <= POOLED_MODEL_BYTES ? 2 : 1);
  const intraOpThreads = runtime.intraOpThreads ?? Math.max(1, Math.floor(cores / sessions));
  const wide = sessions > 1 && (runtime.wide ?? modelBytes <= WIDE_MODEL_BYTES);
  return {
    sessions,
    intraOpThreads,
    thread: runtime.thread,
    spinning: runtime.spinning,
    wideThreads: wide ? sessions * intraOpThreads : 0,
  };
}
