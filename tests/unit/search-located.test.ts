/** Search hits of PDFs and CSVs say their page or row, from the item the index keeps. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { located } from '../../shared/index/search.ts';

const hit = (key: string, item?: number) => ({
  bucket: 'b',
  key,
  chunk: 0,
  start: 0,
  end: 5,
  score: 0.9,
  text: 'hello',
  metadata: {},
  ...(item === undefined ? {} : { item }),
});

test('a .pdf hit gets its page, a .csv/.tsv hit its row (item + 1); others are left as they are', () => {
  assert.equal(located(hit('docs/Report.PDF', 4)).page, 5);
  assert.equal(located(hit('data/animals.csv', 0)).row, 1);
  assert.equal(located(hit('data/animals.tsv', 9)).row, 10);
  assert.deepEqual(located(hit('lines.jsonl', 3)), hit('lines.jsonl', 3));
  assert.deepEqual(located(hit('notes.pdf')), hit('notes.pdf'));
  assert.equal(located(hit('a.csv', 2)).page, undefined);
});
