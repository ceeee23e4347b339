import { DependencyError } from '../../errors.ts';
import { openThreadedSession } from './on-thread.ts';
import type { InputTensor, OutputTensor, RunHint, Session, SessionOptions } from './types.ts';

interface Queued {
  readonly feeds: Readonly<Record<string, InputTensor>>;
  readonly fetches: readonly string[];
  readonly whole: boolean;
  resolve(outputs: Record<string, OutputTensor>): void;
  reject(error: unknown): void;
}

/**
 * Several sessions of one model, each on its own thread, behind the Session interface. With one
 * thread each, two sessions on two cores beat one session with two threads: the threads of one
 * session wait for each other at every operator (BENCHMARKS.md, "Session settings").
 *
 * Runs wait in one queue and each goes to the first session that is idle, so a caller keeps
 * `parallelism` (the sessions the pool will have) runs going from its first request on: the pool
 * is ready when its first session is and the others open after it, in the background; a request
 * that starts meanwhile has its runs queued, and each session takes them as soon as it opens
 * (a cold start waits for one session, and no request is left on it alone).
 *
 * A run that is a request's only one (`hint.whole`: one text cannot be split across sessions)
 * goes to the wide session, one session with every thread (`wideThreads`), when the others are
 * idle. It is opened on the first such run (until it is ready, those runs take a pool session) and
 * runs alone: while it runs, the pool's sessions wait, because its threads and theirs on the same
 * cores ran batches 1.45x slower than the pool alone.
 */
export function openSessionPool(
  modelPath: string,
  options: Pick<SessionOptions, 'intraOpThreads' | 'spinning' | 'sessions' | 'wideThreads'>,
): Promise<Session> {
  return poolOf(
    (threads) => openThreadedSession(modelPath, { ...options, intraOpThreads: threads ?? options.intraOpThreads }),
    options.sessions,
    options.wideThreads,
  );
}

/**
 * The pool's scheduling over sessions that `open` makes: with no argument a pool session, with a
 * thread count the wide session.
 */
export async function poolOf(open: (threads?: number) => Promise<Session>, count: number, wideThreads = 0): Promise<Session> {
  const first = await open();
  const all: Session[] = [first];
  const idle: Session[] = [first];
  const queue: Queued[] = [];
  let running = 0;
  let expected = count;
  let wide: Session | undefined;
  let wideState: 'unopened' | 'opening' | 'open' | 'busy' | 'failed' = wideThreads > 0 ? 'unopened' : 'failed';
  let released = false;

  function start(session: Session, job: Queued, done: () => void): void {
    session
      .run(job.feeds, job.fetches)
      .then(job.resolve, job.reject)
      .finally(() => {
        done();
        dispatch();
      });
  }

  function dispatch(): void {
    while (queue.length > 0 && wideState !== 'busy') {
      const job = queue[0];
      if (job.whole && wideState === 'open' && running === 0 && wide) {
        queue.shift();
        wideState = 'busy';
        start(wide, job, () => {
          wideState = 'open';
        });
        return;
      }
      const session = idle.shift();
      if (!session) return;
      queue.shift();
      running++;
      start(session, job, () => {
        running--;
        idle.push(session);
      });
    }
  }

  let wideOpening: Promise<void> | undefined;
  function openWide(): void {
    wideState = 'opening';
    wideOpening = open(wideThreads).then(
      async (session) => {
        if (released) return session.release();
        all.push(session);
        wide = session;
        wideState = 'open';
      },
      () => {
        wideState = 'failed';
      },
    );
  }

  // A later session that cannot open (out of memory) leaves the pool smaller, not broken: the
  // model itself opened fine in the first.
  const opening = Array.from({ length: count - 1 }, () =>
    open().then(
      async (session) => {
        if (released) return session.release();
        all.push(session);
        idle.push(session);
        dispatch();
      },
      () => {
        expected--;
      },
    ),
  );
  return {
    inputNames: first.inputNames,
    outputNames: first.outputNames,
    shapes: first.shapes,
    get parallelism() {
      return expected;
    },
    run(feeds, fetches, hint?: RunHint) {
      const whole = hint?.whole === true;
      if (whole && wideState === 'unopened' && !released) openWide();
      return new Promise((resolve, reject) => {
        queue.push({ feeds, fetches, whole, resolve, reject });
        dispatch();
      });
    },
    async release() {
      released = true;
      for (const job of queue.splice(0)) job.reject(new DependencyError('The model session was released.'));
      await Promise.all(all.map((session) => session.release()));
      await Promise.all([...opening, wideOpening]);
    },
  };
}
