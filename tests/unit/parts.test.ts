/** Large documents in parts: ranges, keys, covers, resumption, the JSON writer and the deadline (pure). */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { deadlineOf, Pace } from '../../shared/pipeline/deadline.ts';
import {
  chunksOfPart,
  coverOf,
  isPartKey,
  parsePartKey,
  partKey,
  partMessage,
  partMessageSchema,
  partsPrefix,
  resumeAt,
  splitByTokens,
} from '../../shared/pipeline/parts.ts';
import { parseWorkItem } from '../../shared/pipeline/records.ts';
import { embedChunks } from '../../shared/pipeline/text-chunks.ts';
import { workContext } from '../../shared/pipeline/work.ts';
import { jsonPieces } from '../../shared/storage/s3.ts';

describe('splitByTokens', () => {
  test('consecutive ranges within the token budget, a chunk never split', () => {
    const chunks = [5, 5, 5, 20, 1, 1].map((tokens) => ({ tokens }));
    assert.deepEqual(splitByTokens(chunks, 10), [
      { from: 0, to: 2 },
      { from: 2, to: 3 },
      { from: 3, to: 4 },
      { from: 4, to: 6 },
    ]);
  });
  test('at most maxChunks chunks per range; nothing for no chunks', () => {
    assert.deepEqual(
      splitByTokens(
        [1, 1, 1, 1, 1].map((tokens) => ({ tokens })),
        100,
        2,
      ),
      [
        { from: 0, to: 2 },
        { from: 2, to: 4 },
        { from: 4, to: 5 },
      ],
    );
    assert.deepEqual(splitByTokens([], 10), []);
  });
});

describe('part keys', () => {
  test('a range round-trips through its key, which sorts in order and has no extension', () => {
    const prefix = partsPrefix('docs/a.txt.vectors.json', 'etag-1');
    const key = partKey(prefix, { from: 7, to: 120 });
    assert.equal(key, 'docs/a.txt.vectors.json.parts/etag-1/000000007-000000120');
    assert.deepEqual(parsePartKey(prefix, key), { from: 7, to: 120 });
    assert.ok(partKey(prefix, { from: 10, to: 20 }) > partKey(prefix, { from: 9, to: 10 }));
    assert.equal(parsePartKey(prefix, `${prefix}plan.json`), undefined);
    assert.equal(parsePartKey(prefix, partKey(prefix, { from: 5, to: 5 })), undefined);
    assert.ok(isPartKey(key, '.vectors.json'));
    assert.ok(!isPartKey('docs/a.txt.vectors.json', '.vectors.json'));
  });
});

describe('coverOf', () => {
  test('ranges end to end from 0 to the total, in order', () => {
    assert.deepEqual(
      coverOf(
        [
          { from: 4, to: 9 },
          { from: 0, to: 4 },
        ],
        9,
      ),
      [
        { from: 0, to: 4 },
        { from: 4, to: 9 },
      ],
    );
  });
  test('undefined while a gap is left or the end is missing', () => {
    assert.equal(
      coverOf(
        [
          { from: 0, to: 4 },
          { from: 5, to: 9 },
        ],
        9,
      ),
      undefined,
    );
    assert.equal(coverOf([{ from: 0, to: 4 }], 9), undefined);
    assert.equal(coverOf([], 3), undefined);
    assert.deepEqual(coverOf([], 0), []);
  });
  test('overlapping ranges of retries: a cover is found when one exists, each chunk once', () => {
    // The longest from 0 (0..6) leads to a gap (nothing starts at 6); 0..3 + 3..9 covers.
    const ranges = [
      { from: 0, to: 6 },
      { from: 0, to: 3 },
      { from: 3, to: 9 },
      { from: 3, to: 5 },
    ];
    assert.deepEqual(coverOf(ranges, 9), [
      { from: 0, to: 3 },
      { from: 3, to: 9 },
    ]);
    // A range past the total (an older, longer plan) is not used.
    assert.equal(coverOf([{ from: 0, to: 12 }], 9), undefined);
  });
});

describe('resumeAt', () => {
  test('past stored ranges that continue each other inside the part', () => {
    const stored = [
      { from: 0, to: 4 },
      { from: 4, to: 6 },
      { from: 8, to: 10 },
    ];
    assert.equal(resumeAt(stored, { from: 0, to: 10 }), 6);
    assert.equal(resumeAt(stored, { from: 6, to: 10 }), 6);
    assert.equal(resumeAt(stored, { from: 8, to: 10 }), 10);
    // A stored range reaching past the part is another part's business.
    assert.equal(resumeAt([{ from: 0, to: 12 }], { from: 0, to: 10 }), 0);
  });
});

describe('part messages', () => {
  const source = { bucket: 'b', key: 'k.jsonl', etag: 'e', size: 10 };
  const chunks = [
    { item: 0, start: 0, end: 5, tokens: 2 },
    { item: 2, start: 0, end: 3, tokens: 1 },
    { start: 4, end: 9, tokens: 3 },
  ];
  test('carry their chunks, and the worker recognises them', () => {
    const body = partMessage(source, chunks, { from: 1, to: 3 }, { max_tokens: 10, overlap_tokens: 2 });
    assert.equal(body.vectorizer_part.total, 3);
    assert.deepEqual(chunksOfPart(body.vectorizer_part), chunks.slice(1));
    const item = parseWorkItem(JSON.stringify(body));
    assert.equal(item.kind, 'part');
    assert.deepEqual(partMessageSchema.parse(body), body);
  });
  test('a malformed part is refused with the field named', () => {
    const body = partMessage(source, chunks, { from: 0, to: 1 }, { max_tokens: 10, overlap_tokens: 2 });
    assert.throws(
      () => parseWorkItem(JSON.stringify({ vectorizer_part: { ...body.vectorizer_part, total: 0 } })),
      /document part but is malformed: vectorizer_part\.total/,
    );
  });
});

describe('jsonPieces', () => {
  test('joined, the pieces are JSON.stringify of the value; arrays go an element at a time', () => {
    const value = { a: 1, skip: undefined, chunks: [{ x: [1.5, 2] }, { y: 'é"' }, null], empty: [], nested: { b: [1] }, s: 'x' };
    const pieces = [...jsonPieces(value)];
    assert.equal(pieces.join(''), JSON.stringify(value));
    assert.ok(pieces.includes('{"x":[1.5,2]}'), 'one element is one piece');
    for (const scalar of [3, 'x', null, [1, 2]]) assert.equal([...jsonPieces(scalar)].join(''), JSON.stringify(scalar));
  });
});

describe('deadline and pace', () => {
  test('the deadline is the remaining time less a reserve (5 s, or a quarter of a short budget), asked each time', () => {
    let left = 60_000;
    const long = deadlineOf({ getRemainingTimeInMillis: () => left });
    assert.equal(long.remainingMs(), 55_000);
    assert.equal(long.budgetMs, 55_000);
    left -= 10_000;
    assert.equal(long.remainingMs(), 45_000);
    left = 0; // a stopping local stack
    assert.ok(long.remainingMs() < 0);
    assert.equal(deadlineOf({ getRemainingTimeInMillis: () => 2_000 }).remainingMs(), 1_500);
    assert.equal(deadlineOf(undefined).remainingMs(), Number.POSITIVE_INFINITY);
    assert.equal(deadlineOf({}).remainingMs(), Number.POSITIVE_INFINITY);
  });
  test('pace: one slice goes before any sample; then a slice must fit in what is left', () => {
    const pace = new Pace();
    const deadline = { remainingMs: () => 1_000, budgetMs: 1_000 };
    assert.equal(pace.tokensBefore(deadline), Number.POSITIVE_INFINITY);
    pace.record(100, 200); // 2 ms per token
    assert.ok(400 <= pace.tokensBefore(deadline));
    assert.ok(600 > pace.tokensBefore(deadline));
    assert.equal(pace.tokensBefore({ remainingMs: () => 0, budgetMs: 1_000 }), 0);
    // A faster sample lowers the estimate gradually, a slower one raises it at once.
    pace.record(100, 100);
    assert.ok((pace.estimateMs(100) ?? 0) > 100);
    pace.record(100, 1000);
    assert.equal(pace.estimateMs(100), 1000);
  });
});

describe('embedChunks', () => {
  const chunks = Array.from({ length: 10 }, (_, index) => ({ start: index, end: index + 1, tokens: 4 }));
  const texts = chunks.map((_, index) => `t${index}`);
  const embedder = (calls: string[][]) => ({
    reads: 'texts' as const,
    tokens: { countContentTokens: () => 1, maxContentTokens: 8 },
    async embed(batch: string[]) {
      calls.push(batch);
      return batch.map((text) => ({ tokens: 4, vector: [text.length] }));
    },
  });
  test('all chunks, in slices of the token budget, in order', async () => {
    const calls: string[][] = [];
    const done = await embedChunks(texts, chunks, embedder(calls), workContext(), 12);
    assert.equal(done.length, 10);
    assert.deepEqual(
      calls.map((call) => call.length),
      [3, 3, 3, 1],
    );
    assert.deepEqual(
      done.map((chunk) => chunk.start),
      [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    );
  });
  test('near the deadline, a smaller slice that fits; nothing once not one chunk fits', async () => {
    const calls: string[][] = [];
    const pace = new Pace();
    pace.record(4, 100); // 25 ms per token: 1 s holds 40 tokens, 10 chunks; 200 ms holds 2 chunks
    let remaining = 200;
    const work = workContext({ remainingMs: () => remaining, budgetMs: 1_000 }, pace);
    const counting = embedder(calls);
    const timed = {
      ...counting,
      embed: async (batch: string[]) => {
        remaining -= batch.length * 100;
        return counting.embed(batch);
      },
    };
    const done = await embedChunks(texts, chunks, timed, work, 40);
    assert.deepEqual(
      calls.map((call) => call.length),
      [2],
    );
    assert.equal(done.length, 2);
  });
  test('stops before the slice that would pass the deadline, with the prefix done', async () => {
    const calls: string[][] = [];
    let left = 2;
    // Each slice "takes" its time: the deadline allows two.
    const work = workContext({ remainingMs: () => (left > 0 ? 1_000 : 0), budgetMs: 1_000 });
    const counting = embedder(calls);
    const slow = {
      ...counting,
      embed: async (batch: string[]) => {
        left--;
        return counting.embed(batch);
      },
    };
    const done = await embedChunks(texts, chunks, slow, work, 12);
    assert.equal(done.length, 6);
    assert.equal(calls.length, 2);
  });
});
