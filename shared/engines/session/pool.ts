import { DependencyError } from '../../errors.ts';
import { openThreadedSession } from './on-thread.ts';
import type { InputTensor, OutputTensor, RunHint, Session, SessionOptions } from './types.ts';

interface Queued {
  readonly feeds: Readonly<Record<string, InputTensor>>;
  readonly fetches: readonly string[];
  readonly wide: boolean;
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
 * is ready when its first session is, and the others open in the background when runs wait for
 * them; a request's queued runs go to each session as soon as it opens (a cold start waits for one
 * session, no request is left on it alone, and a one-off command of one text opens one session).
 *
 * A run hinted `wide` (a request that one session with every core finishes sooner: one text
 * cannot be split across sessions; see runInBatches) goes to the wide session, one session with every thread (`wideThreads`), when the others are
 * idle and no other run waits (under load, two single-threaded runs at once serve more). It is opened after the first such run (until it is ready, those runs take a pool session) and
 * runs alone: while it runs, the pool's sessions wait, because its threads and theirs on the same
 * cores ran batches 1.45x slower than the pool alone.
 */
export function openSessionPool(
  modelPath: string,
  options: Pick<SessionOptions, 'intraOpThreads' | 'spinning' | 'sessions' | 'wideThreads'>,
): Promise<Session> {
  return poolOf(
    (threads, background) =>
      openThreadedSession(modelPath, { ...options, intraOpThreads: threads ?? options.intraOpThreads }, { background }),
    options.sessions,
    options.wideThreads,
  );
}

/** How long after the first wide run the wide session starts to open (see poolOf). */
const WIDE_OPEN_DELAY_MS = 1000;

/**
 * The pool's scheduling over sessions that `open` makes: with no thread count a pool session,
 * with one the wide session; all but the first in the `background`. The wide session opens a
 * while (`wideDelayMs`) after the first run hinted `wide` rather than at once: a one-off command (the CLI,
 * one text) is done by then and never pays for it, and its opening does not take a core from the
 * request that asked for it.
 */
export async function poolOf(
  open: (threads: number | undefined, background: boolean) => Promise<Session>,
  count: number,
  wideThreads = 0,
  wideDelayMs = WIDE_OPEN_DELAY_MS,
): Promise<Session> {
  const first = await open(undefined, false);
  const all: Session[] = [first];
  const idle: Session[] = [first];
  const queue: Queued[] = [];
  let running = 0;
  let expected = count;
  let wide: Session | undefined;
  let wideState: 'unopened' | 'wanted' | 'opening' | 'open' | 'busy' | 'failed' = wideThreads > 0 ? 'unopened' : 'failed';
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
      // Alone means alone: under load (runs waiting behind it) the pool's sessions serve more.
      if (job.wide && wideState === 'open' && running === 0 && queue.length === 1 && wide) {
        queue.shift();
        wideState = 'busy';
        start(wide, job, () => {
          wideState = 'open';
        });
        return;
      }
      const session = idle.shift();
      if (!session) {
        grow();
        return;
      }
      queue.shift();
      running++;
      start(session, job, () => {
        running--;
        idle.push(session);
      });
    }
  }

  function openWide(): void {
    if (released || wideState !== 'wanted') return;
    wideState = 'opening';
    open(wideThreads, true).then(
      (session) => {
        if (released) return void session.release().catch(() => undefined);
        all.push(session);
        wide = session;
        wideState = 'open';
      },
      () => {
        wideState = 'failed';
      },
    );
  }

  // Pool sessions open when a run waits for one (a request of one text never opens a second). One
  // that cannot open (out of memory) leaves the pool smaller, not broken: the model itself opened
  // fine in the first.
  let pooled = 1;
  let opening = 0;
  function grow(): void {
    if (released || pooled + opening >= expected) return;
    opening++;
    open(undefined, true).then(
      (session) => {
        opening--;
        if (released) return void session.release().catch(() => undefined);
        pooled++;
        all.push(session);
        idle.push(session);
        dispatch();
      },
      () => {
        opening--;
        expected--;
        dispatch();
      },
    );
  }

  return {
    inputNames: first.inputNames,
    outputNames: first.outputNames,
    shapes: first.shapes,
    get parallelism() {
      return expected;
    },
    get wideReady() {
      return wideState === 'open' || wideState === 'busy';
    },
    run(feeds, fetches, hint?: RunHint) {
      const wide = hint?.wide === true;
      if (wide && wideState === 'unopened') {
        wideState = 'wanted';
        setTimeout(openWide, wideDelayMs).unref();
      }
      return new Promise((resolve, reject) => {
        queue.push({ feeds, fetches, wide, resolve, reject });
        dispatch();
      });
    },
    async release() {
      released = true;
      for (const job of queue.splice(0)) job.reject(new DependencyError('The model session was released.'));
      // Sessions still opening release themselves when they are ready (their threads do not keep the process alive).
      await Promise.all(all.map((session) => session.release()));
    },
  };
}
