/** Search hits of PDFs and CSVs say their page or row, from the item the index keeps. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatResults } from '../../shared/cli/search.ts';
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

test('the CLI table names the page or row beside the chunk', () => {
  const table = formatResults({
    results: [located(hit('docs/report.pdf', 4)), located(hit('data/animals.csv', 1)), located(hit('notes.txt'))],
    model_id: 'm',
    count: 3,
    usage: { tokens: 3 },
  });
  assert.match(table, /s3:\/\/b\/docs\/report\.pdf#0 \(page 5\)/);
  assert.match(table, /s3:\/\/b\/data\/animals\.csv#0 \(row 2\)/);
  assert.match(table, /s3:\/\/b\/notes\.txt#0 +hello/);
});
