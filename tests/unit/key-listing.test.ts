import assert from 'node:assert/strict';
import test from 'node:test';
import { commonPrefix, createKeyListing, folderOf, type ListPrefix } from '../../shared/storage/key-listing.ts';

/** A listing function over a fixed bucket, recording each call. */
function fakeList(objects: Record<string, string>, options: { pages?: number; fail?: boolean } = {}) {
  const calls: { bucket: string; prefix: string; maxPages: number }[] = [];
  const list: ListPrefix = async (bucket, prefix, maxPages) => {
    calls.push({ bucket, prefix, maxPages });
    if (options.fail) throw new Error('listing refused');
    if ((options.pages ?? 1) > maxPages) return undefined;
    return new Map(Object.entries(objects).filter(([key]) => key.startsWith(prefix)));
  };
  return { list, calls };
}

const keysOf = (count: number, folder = 'docs/') => Array.from({ length: count }, (_, index) => `${folder}file-${index}.txt.vectors.json`);

test('folderOf and commonPrefix', () => {
  assert.equal(folderOf('a/b/c.txt'), 'a/b/');
  assert.equal(folderOf('c.txt'), '');
  assert.equal(commonPrefix(['a/file-1.txt.vectors.json', 'a/file-12.txt']), 'a/file-1');
  assert.equal(commonPrefix(['x']), 'x');
  assert.equal(commonPrefix([]), '');
  // A prefix never ends in half a surrogate pair ('😀' is two UTF-16 units).
  assert.equal(commonPrefix(['a/\u{1F600}x', 'a/\u{1F601}y']), 'a/');
});

test('the keys of a folder asked about together are answered by one listing: present with their ETag, or absent', async () => {
  const asked = keysOf(20);
  const { list, calls } = fakeList({ [asked[3]]: 'e3', [asked[17]]: 'e17', 'docs/other.txt': 'x' });
  const listing = createKeyListing(list, { minKeys: 16, windowMs: 1 });
  const answers = await Promise.all(asked.map((key) => listing.lookup({ bucket: 'b', key })));
  assert.equal(calls.length, 1);
  assert.deepEqual(calls[0], { bucket: 'b', prefix: 'docs/file-', maxPages: 1 });
  assert.deepEqual(answers[3], { etag: 'e3' });
  assert.deepEqual(answers[17], { etag: 'e17' });
  assert.equal(answers.filter((answer) => answer === null).length, 18);
});

test('a key asked twice in one window gets the same answer both times', async () => {
  const asked = keysOf(16);
  const { list, calls } = fakeList({ [asked[0]]: 'e0' });
  const listing = createKeyListing(list, { minKeys: 16, windowMs: 1 });
  const answers = await Promise.all([...asked, asked[0]].map((key) => listing.lookup({ bucket: 'b', key })));
  assert.equal(calls.length, 1);
  assert.deepEqual(answers[0], { etag: 'e0' });
  assert.deepEqual(answers.at(-1), { etag: 'e0' });
  assert.equal(answers[1], null);
  assert.deepEqual(await Promise.all([listing.lookup({ bucket: 'b', key: asked[0] })]), [undefined], 'alone in its window: not listed');
});

test('too few keys of a folder are not listed (a HEAD each costs less): the answer is "not known"', async () => {
  const { list, calls } = fakeList({});
  const listing = createKeyListing(list, { minKeys: 16, windowMs: 1 });
  // 15 keys in one folder and 15 in another: neither group is worth a listing.
  const answers = await Promise.all([...keysOf(15, 'a/'), ...keysOf(15, 'b/')].map((key) => listing.lookup({ bucket: 'b', key })));
  assert.equal(calls.length, 0);
  assert.ok(answers.every((answer) => answer === undefined));
});

test('a listing may take one page per minKeys keys asked; a longer one answers "not known" and its prefix is left alone for a while', async () => {
  let clock = 0;
  const { list, calls } = fakeList({}, { pages: 3 });
  const listing = createKeyListing(list, { minKeys: 16, windowMs: 1, tooLongForMs: 1000, now: () => clock });
  const ask = (count: number) => Promise.all(keysOf(count).map((key) => listing.lookup({ bucket: 'b', key })));
  assert.ok((await ask(40)).every((answer) => answer === undefined));
  assert.equal(calls.at(-1)?.maxPages, 2);
  assert.ok((await ask(40)).every((answer) => answer === undefined));
  assert.equal(calls.length, 1, 'not listed again within tooLongForMs');
  clock = 1001;
  const answers = await ask(48);
  assert.equal(calls.length, 2);
  assert.equal(calls[1].maxPages, 3);
  assert.ok(
    answers.every((answer) => answer === null),
    'three pages allowed for 48 keys: the whole listing',
  );
});

test('a failed listing answers "not known" (the objects are asked one by one) and is tried again after a while', async () => {
  let clock = 0;
  const { list, calls } = fakeList({}, { fail: true });
  const listing = createKeyListing(list, { minKeys: 16, windowMs: 1, failedForMs: 100, now: () => clock });
  for (const at of [0, 50, 101]) {
    clock = at;
    const answers = await Promise.all(keysOf(16).map((key) => listing.lookup({ bucket: 'b', key })));
    assert.ok(answers.every((answer) => answer === undefined));
  }
  assert.equal(calls.length, 2, 'not listed again within failedForMs');
  // The whole bucket rests (a role without s3:ListBucket there fails every prefix alike).
  clock = 150;
  await Promise.all(keysOf(16, 'other/').map((key) => listing.lookup({ bucket: 'b', key })));
  assert.equal(calls.length, 2);
  await Promise.all(keysOf(16, 'other/').map((key) => listing.lookup({ bucket: 'another', key })));
  assert.equal(calls.length, 3, 'another bucket is listed');
});
