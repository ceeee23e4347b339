import type { Session, SessionOptions } from './session.ts';
import { openThreadedSession } from './threaded-session.ts';

/**
 * Several sessions of one model, each on its own thread, behind the Session interface: each run
 * goes to the session with the fewest runs in flight, so a caller that keeps `parallelism` runs
 * going (runInBatches) uses them all. With one thread each, two sessions on two cores beat one
 * session with two threads: the threads of one session wait for each other at every operator.
 */
export async function openSessionPool(
  modelPath: string,
  settings: Pick<SessionOptions, 'intraOpThreads' | 'spinning'>,
  count: number,
): Promise<Session> {
  // Created side by side (each on its own thread); if one fails, the others are released.
  const opened = await Promise.allSettled(Array.from({ length: count }, () => openThreadedSession(modelPath, settings)));
  const sessions = opened.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
  const failed = opened.find((result): result is PromiseRejectedResult => result.status === 'rejected');
  if (failed) {
    await Promise.all(sessions.map((session) => session.release()));
    throw failed.reason;
  }
  const inFlight = new Array<number>(count).fill(0);
  return {
    inputNames: sessions[0].inputNames,
    outputNames: sessions[0].outputNames,
    parallelism: count,
    async run(feeds, fetches) {
      let pick = 0;
      for (let index = 1; index < count; index++) if (inFlight[index] < inFlight[pick]) pick = index;
      inFlight[pick]++;
      try {
        return await sessions[pick].run(feeds, fetches);
      } finally {
        inFlight[pick]--;
      }
    },
    async release() {
      await Promise.all(sessions.map((session) => session.release()));
    },
  };
}
