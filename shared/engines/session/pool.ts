import { openThreadedSession } from './on-thread.ts';
import type { Session, SessionOptions } from './types.ts';

/**
 * Several sessions of one model, each on its own thread, behind the Session interface: each run
 * goes to the ready session with the fewest runs in flight, so a caller that keeps `parallelism`
 * runs going (runInBatches) uses them all. With one thread each, two sessions on two cores beat
 * one session with two threads: the threads of one session wait for each other at every operator.
 *
 * The pool is ready when its first session is: the others open after it, in the background, so a
 * cold start waits for one session only (the first request rarely needs more).
 */
export async function openSessionPool(
  modelPath: string,
  settings: Pick<SessionOptions, 'intraOpThreads' | 'spinning'>,
  count: number,
): Promise<Session> {
  const first = await openThreadedSession(modelPath, settings);
  const ready: Session[] = [first];
  const inFlight = new Map<Session, number>([[first, 0]]);
  let released = false;
  // A later session that cannot open (out of memory) leaves the pool smaller, not broken: the
  // model itself opened fine in the first.
  const opening = Array.from({ length: count - 1 }, () =>
    openThreadedSession(modelPath, settings).then(
      async (session) => {
        if (released) return session.release();
        ready.push(session);
        inFlight.set(session, 0);
      },
      () => undefined,
    ),
  );
  return {
    inputNames: first.inputNames,
    outputNames: first.outputNames,
    shapes: first.shapes,
    get parallelism() {
      return ready.length;
    },
    async run(feeds, fetches) {
      let pick = ready[0];
      for (const session of ready) if ((inFlight.get(session) ?? 0) < (inFlight.get(pick) ?? 0)) pick = session;
      inFlight.set(pick, (inFlight.get(pick) ?? 0) + 1);
      try {
        return await pick.run(feeds, fetches);
      } finally {
        inFlight.set(pick, (inFlight.get(pick) ?? 1) - 1);
      }
    },
    async release() {
      released = true;
      await Promise.all(ready.map((session) => session.release()));
      await Promise.all(opening);
    },
  };
}
