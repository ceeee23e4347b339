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
}

export function workContext(deadline: Deadline = NO_DEADLINE, pace: Pace = new Pace()): WorkContext {
  const results = new Map<string, Promise<unknown>>();
  return {
    deadline,
    pace,
    once<T>(id: string, make: () => Promise<T>): Promise<T> {
      let result = results.get(id) as Promise<T> | undefined;
      if (!result) {
        result = make();
        results.set(id, result);
        result.catch(() => results.delete(id));
      }
      return result;
    },
  };
}
