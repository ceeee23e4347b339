import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createSession } from '../../shared/engines/session/open.ts';
import type { Session } from '../../shared/engines/session/types.ts';
import { int64Tensor } from '../../shared/engines/tokenizer.ts';
import { tinyModel } from '../helpers/tiny.ts';

/** One tiny text batch: ids [rows, seq] with a full attention mask. */
function feeds(rows: number, seq: number) {
  const ids = BigInt64Array.from({ length: rows * seq }, (_, i) => BigInt(4 + (i % 9)));
  return {
    input_ids: int64Tensor(ids, rows, seq),
    attention_mask: int64Tensor(new BigInt64Array(rows * seq).fill(1n), rows, seq),
    token_type_ids: int64Tensor(new BigInt64Array(rows * seq), rows, seq),
  };
}

describe('model session on a worker thread (ORT_SESSION_THREAD)', () => {
  let model: Awaited<ReturnType<typeof tinyModel>>;
  let threaded: Session;
  let local: Session;
  before(async () => {
    model = await tinyModel('text');
    const path = join(model.dir, 'onnx', 'model.onnx');
    [threaded, local] = await Promise.all([
      createSession(path, { intraOpThreads: 1, thread: true, spinning: true, sessions: 1, wideThreads: 0 }),
      createSession(path, { intraOpThreads: 1, thread: false, spinning: true, sessions: 1, wideThreads: 0 }),
    ]);
  });
  after(async () => {
    await Promise.all([threaded.release(), local.release()]);
    await model.cleanup();
  });

  test('gives the same names and the same outputs as a session on this thread', async () => {
    assert.deepEqual(threaded.inputNames, local.inputNames);
    assert.deepEqual(threaded.outputNames, local.outputNames);
    const name = threaded.outputNames[0];
    const [a, b] = await Promise.all([threaded.run(feeds(3, 5), [name]), local.run(feeds(3, 5), [name])]);
    assert.deepEqual(a[name].dims, b[name].dims);
    assert.equal(a[name].data.length, 3 * 5 * (a[name].dims.at(-1) as number));
    assert.deepEqual(Array.from(a[name].data), Array.from(b[name].data));
  });

  test('keeps concurrent runs apart: each caller gets its own batch back', async () => {
    const name = threaded.outputNames[0];
    const shapes = [1, 2, 3, 4, 5, 6].map((rows) => [rows, rows + 1] as const);
    const results = await Promise.all(shapes.map(([rows, seq]) => threaded.run(feeds(rows, seq), [name])));
    for (const [index, [rows, seq]] of shapes.entries()) assert.deepEqual(results[index][name].dims.slice(0, 2), [rows, seq]);
  });

  test('hands input buffers to the thread instead of copying them', async () => {
    const input = feeds(2, 3);
    await threaded.run(input, [threaded.outputNames[0]]);
    assert.equal(input.input_ids.data.byteLength, 0, 'the transferred buffer is detached here');
  });

  test('a failing run is reported to its caller and the session keeps working', async () => {
    const name = threaded.outputNames[0];
    const bad = { ...feeds(2, 3), input_ids: int64Tensor(new BigInt64Array(5), 1, 5) }; // shapes disagree
    await assert.rejects(threaded.run(bad, [name]), (error: Error) => error.message.length > 0);
    const ok = await threaded.run(feeds(1, 2), [name]);
    assert.deepEqual(ok[name].dims.slice(0, 2), [1, 2]);
  });

  test('a model that cannot be opened fails at open with the runtime message', async () => {
    await assert.rejects(
      createSession(join(model.dir, 'missing.onnx'), { intraOpThreads: 1, thread: true, spinning: true, sessions: 1, wideThreads: 0 }),
      /missing\.onnx|file|exist/i,
    );
  });

  test('after release, runs fail with a clear error instead of hanging', async () => {
    const session = await createSession(join(model.dir, 'onnx', 'model.onnx'), {
      intraOpThreads: 1,
      thread: true,
      spinning: true,
      sessions: 1,
      wideThreads: 0,
    });
    await session.release();
    await assert.rejects(session.run(feeds(1, 2), [session.outputNames[0]]), /released/);
  });
});

describe('a pool of sessions (ORT_SESSIONS)', () => {
  let model: Awaited<ReturnType<typeof tinyModel>>;
  before(async () => {
    model = await tinyModel('text');
  });
  after(() => model.cleanup());

  test('runs side by side and gives every caller the outputs a single session gives, the wide session too', async () => {
    const path = join(model.dir, 'onnx', 'model.onnx');
    const [pool, single] = await Promise.all([
      createSession(path, { intraOpThreads: 1, thread: true, spinning: true, sessions: 2, wideThreads: 2 }),
      createSession(path, { intraOpThreads: 1, thread: false, spinning: true, sessions: 1, wideThreads: 0 }),
    ]);
    try {
      // Ready with its first session; callers keep two runs going from the start.
      assert.equal(pool.parallelism, 2);
      assert.equal(single.parallelism, 1);
      assert.deepEqual(pool.outputNames, single.outputNames);
      const name = pool.outputNames[0];
      const shapes = [1, 2, 3, 4, 5, 6].map((rows) => [rows, rows + 2] as const);
      // Whole runs (one input) open the wide session and run on it once it is ready.
      const runs = shapes.map(([rows, seq], index) => pool.run(feeds(rows, seq), [name], { wide: index % 2 === 0 }));
      const pooled = await Promise.all(runs);
      // The wide session opens a second after the first whole run.
      await new Promise((resolve) => setTimeout(resolve, 1500));
      const later = await Promise.all(shapes.map(([rows, seq]) => pool.run(feeds(rows, seq), [name], { wide: true })));
      for (const [index, [rows, seq]] of shapes.entries()) {
        const expected = await single.run(feeds(rows, seq), [name]);
        for (const outputs of [pooled[index], later[index]]) {
          assert.deepEqual(outputs[name].dims, expected[name].dims);
          for (const [at, value] of expected[name].data.entries()) assert.ok(Math.abs(outputs[name].data[at] - value) < 1e-5);
        }
      }
    } finally {
      await Promise.all([pool.release(), single.release()]);
    }
  });

  test('a model that cannot be opened fails the pool at open', async () => {
    await assert.rejects(
      createSession(join(model.dir, 'missing.onnx'), { intraOpThreads: 1, thread: true, spinning: true, sessions: 2, wideThreads: 0 }),
      /missing\.onnx|file|exist/i,
    );
  });
});
