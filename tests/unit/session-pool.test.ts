import assert from 'node:assert/strict';
import { test } from 'node:test';
import { poolOf } from '../../shared/engines/session/pool.ts';
import type { OutputTensor, Session } from '../../shared/engines/session/types.ts';

/** A promise with its resolve and reject outside. */
function deferred<Value>() {
  let resolve!: (value: Value) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<Value>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** A session whose runs finish when the test says so; it records which runs it was given. */
function fakeSession(name: string) {
  const runs: { tag: string; finish: () => void }[] = [];
  let released = false;
  const session: Session = {
    inputNames: ['x'],
    outputNames: ['y'],
    shapes: {},
    parallelism: 1,
    run(feeds) {
      const tag = String((feeds.x.data as Float32Array)[0]);
      const done = deferred<Record<string, OutputTensor>>();
      runs.push({ tag, finish: () => done.resolve({ y: { data: new Float32Array([Number(tag)]), dims: [1], dispose() {} } }) });
      return done.promise;
    },
    async release() {
      released = true;
    },
  };
  return { name, session, runs, isReleased: () => released };
}

const feeds = (tag: number) => ({ x: { type: 'float32' as const, data: new Float32Array([tag]), dims: [1] } });
const settle = () => new Promise((resolve) => setImmediate(resolve));

/** A pool over fakes: `open()` hands out the pool sessions in order, `open(threads)` the wide one; each opens when the test says. */
function fakePool(count: number, wideThreads = 0) {
  const sessions = Array.from({ length: count }, (_, index) => fakeSession(`s${index}`));
  const wide = fakeSession('wide');
  const opens = sessions.map(() => deferred<Session>());
  const wideOpen = deferred<Session>();
  const asked: (number | undefined)[] = [];
  let next = 0;
  const background: boolean[] = [];
  const pool = poolOf(
    (threads, inBackground) => {
      asked.push(threads);
      background.push(inBackground);
      return threads === undefined ? opens[next++].promise : wideOpen.promise;
    },
    count,
    wideThreads,
    0,
  );
  return {
    pool,
    sessions,
    wide,
    asked,
    background,
    open: (index: number) => opens[index].resolve(sessions[index].session),
    fail: (index: number) => opens[index].reject(new Error('out of memory')),
    openWide: () => wideOpen.resolve(wide.session),
    finishAll: () => {
      for (const { runs } of sessions) for (const run of runs) run.finish();
    },
  };
}

test('a pool counts every session it will have from its first, and a session that opens takes the runs waiting for it', async () => {
  const fake = fakePool(2);
  fake.open(0);
  const pool = await fake.pool;
  assert.equal(pool.parallelism, 2);
  assert.deepEqual(fake.asked, [undefined], 'the others open when runs wait for them');
  const first = pool.run(feeds(1), ['y']);
  await settle();
  assert.deepEqual(fake.asked, [undefined]);
  const second = pool.run(feeds(2), ['y']);
  await settle();
  assert.deepEqual(fake.background, [false, true], 'only the first session keeps the process alive while it opens');
  assert.deepEqual(
    fake.sessions[0].runs.map((run) => run.tag),
    ['1'],
  );
  // The second run waits for a session instead of queueing behind the first one's run.
  fake.open(1);
  await settle();
  assert.deepEqual(
    fake.sessions[1].runs.map((run) => run.tag),
    ['2'],
  );
  fake.sessions[1].runs[0].finish();
  fake.sessions[0].runs[0].finish();
  assert.deepEqual(Array.from((await first).y.data), [1]);
  assert.deepEqual(Array.from((await second).y.data), [2]);
});

test('each run goes to the first session that is idle', async () => {
  const fake = fakePool(2);
  fake.open(0);
  fake.open(1);
  const pool = await fake.pool;
  const runs = [1, 2, 3, 4].map((tag) => pool.run(feeds(tag), ['y']));
  await settle();
  // s1 finishes first and takes the third run; s0 is still busy with the first.
  fake.sessions[1].runs[0].finish();
  await settle();
  assert.deepEqual(
    fake.sessions[1].runs.map((run) => run.tag),
    ['2', '3'],
  );
  fake.sessions[0].runs[0].finish();
  await settle();
  assert.deepEqual(
    fake.sessions[0].runs.map((run) => run.tag),
    ['1', '4'],
  );
  fake.sessions[1].runs[1].finish();
  fake.sessions[0].runs[1].finish();
  assert.deepEqual(
    (await Promise.all(runs)).map((outputs) => outputs.y.data[0]),
    [1, 2, 3, 4],
  );
});

test('a wide run opens the wide session, runs on the pool until it is ready, then on it alone', async () => {
  const fake = fakePool(2, 4);
  fake.open(0);
  fake.open(1);
  const pool = await fake.pool;
  // Two runs at once: the second session opens for the second.
  const warm = [pool.run(feeds(0), ['y']), pool.run(feeds(0), ['y'])];
  await settle();
  await settle();
  fake.finishAll();
  await Promise.all(warm);
  const early = pool.run(feeds(1), ['y'], { wide: true });
  await new Promise((resolve) => setTimeout(resolve, 5));
  assert.deepEqual(fake.asked, [undefined, undefined, 4]);
  assert.equal(fake.sessions[0].runs.length + fake.sessions[1].runs.length, 3);
  fake.finishAll();
  await early;
  fake.openWide();
  await settle();
  const alone = pool.run(feeds(2), ['y'], { wide: true });
  await settle();
  assert.deepEqual(
    fake.wide.runs.map((run) => run.tag),
    ['2'],
  );
  // While the wide session runs, others wait: its threads and the pool's would share the cores.
  const batch = pool.run(feeds(3), ['y']);
  await settle();
  assert.equal(fake.sessions[0].runs.length + fake.sessions[1].runs.length, 3);
  fake.wide.runs[0].finish();
  await alone;
  await settle();
  assert.equal(fake.sessions[0].runs.length + fake.sessions[1].runs.length, 4);
  // A wide run that comes while the pool is busy takes a pool session rather than wait.
  const busyWide = pool.run(feeds(4), ['y'], { wide: true });
  await settle();
  assert.equal(fake.wide.runs.length, 1);
  for (const { runs } of fake.sessions) for (const run of runs) run.finish();
  await batch;
  await busyWide;
  assert.equal(fake.asked.filter((threads) => threads === 4).length, 1, 'the wide session is opened once');
  // Under load (wide runs waiting behind a wide run) the waiting ones go to the pool's sessions, two at once.
  const first = pool.run(feeds(5), ['y'], { wide: true });
  await settle();
  assert.equal(fake.wide.runs.length, 2);
  const together = [first, ...[6, 7].map((tag) => pool.run(feeds(tag), ['y'], { wide: true }))];
  await settle();
  fake.wide.runs[1].finish();
  await settle();
  assert.equal(fake.wide.runs.length, 2);
  const onPool = fake.sessions.flatMap(({ runs }) => runs.map((run) => run.tag));
  assert.ok(onPool.includes('6') && onPool.includes('7'), `both on the pool: ${onPool}`);
  fake.finishAll();
  await Promise.all(together);
});

test('a session that fails to open makes the pool smaller, and release fails the runs still waiting', async () => {
  const fake = fakePool(3);
  fake.open(0);
  const pool = await fake.pool;
  fake.fail(1);
  const running = pool.run(feeds(1), ['y']);
  const waiting = pool.run(feeds(2), ['y']);
  await settle();
  assert.equal(pool.parallelism, 2);
  assert.equal(fake.asked.length, 3, 'a failed opening is followed by the next');
  const third = pool.run(feeds(3), ['y']);
  await settle();
  const released = pool.release();
  await assert.rejects(third, /released/);
  for (const { runs } of fake.sessions) for (const run of runs) run.finish();
  await Promise.all([running, released]);
  await assert.rejects(waiting, /released/);
  assert.ok(fake.sessions[0].isReleased());
  // The third session opens after the release and is released at once.
  fake.open(2);
  await settle();
  assert.ok(fake.sessions[2].isReleased());
});
