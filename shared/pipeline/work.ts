import { type Deadline, NO_DEADLINE, Pace } from './deadline.ts';

/**
 * What the records of one invocation share: its deadline, the process's pace (how fast embedding
 * goes here), and what was read once for all of them (the parts of a large document in one batch
 * read and parse their source once).
 */
export interface WorkContext {
  readonly deadline: Deadline;
  readonly pace: Pace;
  /** `make()`'s result, computed once per `id` in this invocation; a failure is not remembered. */
  once<T>(id: string, make: () => Promise<T>): Promise<T>;
  /**
   * `make()` unless a call with this `id` is already running in this process (any invocation):
   * then `busy`, at once. The parts of a document that finish together assemble it once, and the
   * others do not wait for it past their own deadline.
   */
  alone<T, B>(id: string, make: () => Promise<T>, busy: B): Promise<T | B>;
  /** The same invocation without what was read so far (to look at an object again as it is now). */
  fresh(): WorkContext;
}

/** Calls in flight by id (process-wide for `alone`, per invocation for `once`). */
export type Running = Map<string, Promise<unknown>>;

function share<T>(running: Running, id: string, make: () => Promise<T>, keep: boolean): Promise<T> {
  let result = running.get(id) as Promise<T> | undefined;
  if (!result) {
    result = make();
    running.set(id, result);
    const forget = () => running.delete(id);
    if (keep) result.catch(forget);
    else result.then(forget, forget);
  }
  return result;
}

export function workContext(deadline: Deadline = NO_DEADLINE, pace: Pace = new Pace(), processWide: Running = new Map()): WorkContext {
  const results: Running = new Map();
  return {
    deadline,
    pace,
    once: (id, make) => share(results, id, make, true),
    alone: async (id, make, busy) => (processWide.has(id) ? busy : share(processWide, id, make, false)),
    fresh: () => workContext(deadline, pace, processWide),
  };
}
