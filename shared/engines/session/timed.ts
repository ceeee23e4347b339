/**
 * A session that reports how long each model run took (the `ModelRunTime` metric): the one place
 * every kind's runs pass, whatever batching sits above it.
 */
import type { Session } from './types.ts';

/** `session` with its runs timed; every other member (live getters included) is the session's own. */
export function timedSession(session: Session, onRun: (milliseconds: number) => void): Session {
  const timed: Session = Object.create(session);
  Object.defineProperty(timed, 'run', {
    value: async (...args: Parameters<Session['run']>) => {
      const started = performance.now();
      try {
        return await session.run(...args);
      } finally {
        onRun(performance.now() - started);
      }
    },
  });
  return timed;
}

/** Run times gathered until the next invocation's metrics are published, at most `limit` kept. */
export function createRunLog(limit = 1000): { record(milliseconds: number): void; drain(): number[] } {
  let runs: number[] = [];
  return {
    record(milliseconds) {
      if (runs.length < limit) runs.push(milliseconds);
    },
    drain() {
      const drained = runs;
      runs = [];
      return drained;
    },
  };
}
