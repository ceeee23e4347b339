/** `vectorizer ingest`'s pure parts: which files it uploads, their content types, its summary. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { formatSummary, type IngestSummary, ingestProgressText } from '../../shared/cli/ingest.ts';
import { classifyFile, contentTypeOf, folderPrefix } from '../../shared/cli/ingest-files.ts';
import { loadConfig } from '../../shared/config.ts';

const pipeline = loadConfig({}, { modelId: 'test/model' }).pipeline;

const summary: IngestSummary = {
  bucket: 'vectorizer-input',
  prefix: 'docs/',
  endpoint: 'http://127.0.0.1:4566',
  files: 4,
  uploaded: 4,
  metadata_sidecars: 1,
  embedded: 2,
  errors: { INVALID_INPUT_DATA: 1 },
  failed: [{ key: 'docs/bad.txt', code: 'INVALID_INPUT_DATA', message: 'not valid UTF-8', stage: 'pipeline' }],
  skipped: { unsupported: ['a.exe', 'b.exe', 'c'], mixed_case: ['Notes.Md'], hidden: 2, outputs: 1 },
  pending: ['docs/slow.txt'],
  timed_out: true,
  seconds: 12.5,
  files_per_second: 0.2,
};

describe('vectorizer ingest', () => {
  test('uploads the types the notifications deliver, and leaves out the rest', () => {
    assert.equal(classifyFile('notes/a.txt', pipeline), 'source');
    assert.equal(classifyFile('IMG.JPG', pipeline), 'source', 'upper case is notified too');
    assert.equal(classifyFile('notes/a.Md', pipeline), 'mixed-case');
    assert.equal(classifyFile('report.xyz', pipeline), 'unsupported');
    assert.equal(classifyFile('Makefile', pipeline), 'unsupported');
    assert.equal(classifyFile('.env', pipeline), 'hidden');
    assert.equal(classifyFile('.git/config.json', pipeline), 'hidden');
    assert.equal(classifyFile('a.txt.vectors.json', pipeline), 'output');
    assert.equal(classifyFile('a.txt.error.json', pipeline), 'output');
    assert.equal(classifyFile('a.txt.vectors.json.parts/000000000-000000010', pipeline), 'output');
    assert.equal(classifyFile('a.txt.metadata.json', pipeline), 'metadata');
    assert.equal(classifyFile('data.json', pipeline), 'source');
  });

  test('content types by extension, any case', () => {
    assert.equal(contentTypeOf('a/b.md'), 'text/markdown');
    assert.equal(contentTypeOf('photo.JPEG'), 'image/jpeg');
    assert.equal(contentTypeOf('lines.jsonl'), 'application/jsonl');
    assert.equal(contentTypeOf('blob'), 'application/octet-stream');
  });

  test('a prefix is a folder', () => {
    assert.equal(folderPrefix(''), '');
    assert.equal(folderPrefix('docs'), 'docs/');
    assert.equal(folderPrefix('/docs/'), 'docs/');
    assert.equal(folderPrefix('a/b'), 'a/b/');
  });

  test('the summary for people', () => {
    assert.equal(
      formatSummary(summary),
      [
        'Timed out ingesting 4 files into s3://vectorizer-input/docs/ in 12.5 s (0.2 files/s)',
        '  embedded  2',
        '  errors    1: INVALID_INPUT_DATA 1',
        '    docs/bad.txt  INVALID_INPUT_DATA  not valid UTF-8',
        '  skipped   3 unsupported type (.exe 2, no extension 1), 1 mixed-case extension (.Md 1: S3 notifications miss them; rename, or run `vectorizer sync`), 2 hidden, 1 earlier output',
        '  metadata  1 sidecar uploaded',
        '  pending   1 (no output yet):',
        '    docs/slow.txt',
      ].join('\n'),
    );
    const clean = { ...summary, errors: {}, failed: [], skipped: { unsupported: [], mixed_case: [], hidden: 0, outputs: 0 }, pending: [] };
    assert.match(
      formatSummary({ ...clean, timed_out: false, metadata_sidecars: 0 }),
      /^Ingested 4 files .*\n {2}embedded {2}2\n {2}errors {4}0\n {2}skipped {3}0$/,
    );
  });

  test('the progress line', () => {
    assert.equal(
      ingestProgressText({ files: 4, uploaded: 4, embedded: 1, errors: 1, seconds: 2.4 }),
      'ingest [###############...............]  50% 2/4 done (1 embedded, 1 error), 4/4 uploaded, 2 s',
    );
  });
});
