import assert from 'node:assert/strict';
import { test } from 'node:test';
import { batchLimitsFor, preferWide, runInBatches, spreadOver, wideSpeedup } from '../../shared/engines/batching/run.ts';
import type { RunHint } from '../../shared/engines/session/types.ts';

const limits = { maxTokens: 4, maxItems: 4 };

test('runInBatches returns one result per item, in the items order, whatever the plan', async () => {
  const items = ['aaaa', 'b', 'cc', 'ddd', 'e', 'ffff', 'gg'];
  const results = await runInBatches(items, (item) => item.length, limits, {
    prepare: (batch) => batch,
    run: async (batch) => batch.map((item) => item.toUpperCase()),
  });
  assert.deepEqual(
    results,
    items.map((item) => item.toUpperCase()),
  );
});

test('runInBatches prepares the next batch while the current one runs, and runs one at a time', async () => {
  const events: string[] = [];
  let running = 0;
  await runInBatches([1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1], () => 1, limits, {
    prepare: async (batch) => {
      events.push(`prepare ${batch.length}`);
      return batch;
    },
    run: async (batch) => {
      running++;
      assert.equal(running, 1, 'never two model runs at once');
      events.push('run start');
      await new Promise((resolve) => setTimeout(resolve, 5));
      events.push('run end');
      running--;
      return batch;
    },
  });
  // Three batches of four: the second and third are prepared before the previous run ends.
  assert.deepEqual(events, ['prepare 4', 'run start', 'prepare 4', 'run end', 'run start', 'prepare 4', 'run end', 'run start', 'run end']);
});

test('runInBatches reports a failed preparation, and a failed run leaves no unhandled rejection', async () => {
  await assert.rejects(
    runInBatches([1, 1, 1, 1, 1], () => 1, limits, {
      prepare: async (batch) => {
        if (batch.length === 1) throw new Error('bad image in batch 2');
        return batch;
      },
      run: async (batch) => batch,
    }),
    /bad image in batch 2/,
  );
  const unhandled: unknown[] = [];
  const listener = (reason: unknown) => unhandled.push(reason);
  process.on('unhandledRejection', listener);
  await assert.rejects(
    runInBatches([1, 1, 1, 1, 1], () => 1, limits, {
      prepare: async () => {
        throw new Error('prepare failed');
      },
      run: async () => {
        throw new Error('never reached');
      },
    }),
    /prepare failed/,
  );
  await assert.rejects(
    runInBatches([1, 1, 1, 1, 1], () => 1, limits, {
      prepare: async (batch) => {
        if (batch.length === 1) throw new Error('second batch broken too');
        return batch;
      },
      run: async () => {
        throw new Error('model run failed');
      },
    }),
    /model run failed/,
  );
  await new Promise((resolve) => setTimeout(resolve, 20));
  process.off('unhandledRejection', listener);
  assert.deepEqual(unhandled, []);
});

test('runInBatches with no items runs nothing', async () => {
  const results = await runInBatches([], () => 1, limits, {
    prepare: () => assert.fail('nothing to prepare'),
    run: () => assert.fail('nothing to run'),
  });
  assert.deepEqual(results, []);
});

test('runInBatches keeps `parallelism` runs in flight (a session pool), results still in order', async () => {
  let running = 0;
  let most = 0;
  const items = Array.from({ length: 24 }, (_, index) => index);
  const results = await runInBatches(
    items,
    () => 1,
    limits,
    {
      prepare: (batch) => batch,
      run: async (batch) => {
        running++;
        most = Math.max(most, running);
        await new Promise((resolve) => setTimeout(resolve, 5));
        running--;
        return batch.map((item) => item * 10);
      },
    },
    { parallelism: 2 },
  );
  assert.equal(most, 2, 'two runs at once, never more');
  assert.deepEqual(
    results,
    items.map((item) => item * 10),
  );
});

test('runInBatches with parallel runs: after a failed run no new batch starts', async () => {
  let started = 0;
  await assert.rejects(
    runInBatches(
      Array.from({ length: 40 }, () => 1),
      () => 1,
      limits,
      {
        prepare: (batch) => batch,
        run: async (batch) => {
          started++;
          await new Promise((resolve) => setTimeout(resolve, 2));
          if (started === 2) throw new Error('run 2 failed');
          return batch;
        },
      },
      { parallelism: 2 },
    ),
    /run 2 failed/,
  );
  assert.ok(started <= 4, `${started} runs started of 10 batches`);
});

test('batchLimitsFor shares the budget among the sessions running side by side', () => {
  const limits = { maxBatchTokens: 8192, maxBatchImages: 16 };
  assert.deepEqual(batchLimitsFor('text', limits), { maxTokens: 8192, maxItems: 256 });
  assert.deepEqual(batchLimitsFor('text', limits, 2), { maxTokens: 4096, maxItems: 256 });
  assert.deepEqual(batchLimitsFor('sparse', limits, 2), { maxTokens: 1024, maxItems: 256 });
  assert.deepEqual(batchLimitsFor('image', limits, 2), { maxTokens: 8, maxItems: 8 });
  assert.deepEqual(batchLimitsFor('image', { maxBatchTokens: 1, maxBatchImages: 1 }, 2), { maxTokens: 1, maxItems: 1 });
});

test('spreadOver splits the largest batches until every session of a pool has one', () => {
  assert.deepEqual(spreadOver([[0, 1, 2, 3, 4]], 2), [
    [0, 1, 2],
    [3, 4],
  ]);
  assert.deepEqual(spreadOver([[0]], 2), [[0]], 'one row cannot be split');
  assert.deepEqual(spreadOver([[0, 1], [2]], 2), [[0, 1], [2]], 'already enough batches');
  assert.deepEqual(spreadOver([[5, 6, 7, 8]], 1), [[5, 6, 7, 8]]);
  assert.deepEqual(spreadOver([], 2), []);
});

test('preferWide: one input, or one long input beside short ones, finishes sooner on one session with every core', () => {
  assert.equal(preferWide([[0]], [300], 2), true);
  assert.equal(preferWide([[0], [1, 2, 3]], [500, 8, 8, 8], 2), true);
  assert.equal(
    preferWide(
      [
        [0, 1],
        [2, 3],
      ],
      [40, 40, 40, 40],
      2,
    ),
    false,
  );
  assert.equal(preferWide([[0], [1]], [300, 290], 2), false);
  assert.equal(preferWide([[0]], [300], 1), false, 'no pool, nothing to choose');
});

test('preferWide: long inputs gain more from every core, so an odd number of them goes wide; two balance the pool', () => {
  assert.equal(wideSpeedup(64), 1.5);
  assert.equal(wideSpeedup(128), 1.5);
  assert.equal(wideSpeedup(320), 1.75);
  assert.equal(wideSpeedup(512), 2);
  assert.equal(wideSpeedup(4096), 2);
  // Three 512-token texts: one lane would run two of them while the other idles.
  assert.equal(preferWide([[0], [1], [2], [3, 4]], [512, 512, 512, 17, 12], 2), true);
  // At 1.5 (short inputs) the same shape of plan stays on the pool.
  assert.equal(preferWide([[0], [1], [2], [3, 4]], [100, 100, 100, 17, 12], 2), false);
  assert.equal(preferWide([[0], [1]], [512, 512], 2), false, 'two equal long runs, one per lane');
  // One 512-token text among forty short ones: only its own batch gains 2x; the short batches keep the pool.
  const lengths = [512, ...new Array<number>(40).fill(30)];
  const plan = [[0], ...Array.from({ length: 8 }, (_, batch) => Array.from({ length: 5 }, (_, row) => 1 + batch * 5 + row))];
  assert.equal(preferWide(plan, lengths, 2), false);
});

test('runInBatches runs a request that prefers the wide session one batch at a time with the hint, once it is open', async () => {
  const seen: { hint: RunHint; running: number }[] = [];
  let running = 0;
  const stages = {
    prepare: (batch: number[]) => batch,
    run: async (batch: number[], hint: RunHint) => {
      running++;
      seen.push({ hint, running });
      await new Promise((resolve) => setTimeout(resolve, 2));
      running--;
      return batch;
    },
  };
  // One 500-token text beside three short ones: the pool would leave a session idle.
  const lengths = [500, 8, 8, 8];
  const items = [0, 1, 2, 3];
  const budget = { maxTokens: 512, maxItems: 256 };
  assert.deepEqual(await runInBatches(items, (item) => lengths[item], budget, stages, { parallelism: 2, wideReady: true }), items);
  assert.ok(seen.length >= 2 && seen.every(({ hint, running }) => hint.wide === true && running === 1));
  // Not open yet: spread over the pool, hinted (the hint opens it).
  seen.length = 0;
  await runInBatches(items, (item) => lengths[item], budget, stages, { parallelism: 2, wideReady: false });
  assert.ok(seen.some(({ running }) => running === 2) && seen.every(({ hint }) => hint.wide === true));
  // Balanced work stays on the pool without the hint.
  seen.length = 0;
  await runInBatches(items, () => 40, budget, stages, { parallelism: 2, wideReady: true });
  assert.ok(seen.every(({ hint }) => hint.wide === false) && seen.some(({ running }) => running === 2));
});
