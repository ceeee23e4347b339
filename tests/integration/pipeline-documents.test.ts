/**
 * Documents on the local stack: a PDF, an HTML page, a DOCX and a CSV dropped in the bucket get
 * `<key>.vectors.json` with page / row provenance and the vectors of their text; broken, encrypted,
 * scanned and oversized ones get `<key>.error.json` with their code.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import type { SQSEvent } from 'aws-lambda';
import type { LocalStack } from '../../local/stack.ts';
import type { TextEngine } from '../../shared/kinds/text.ts';
import { cosine } from '../../shared/math/vector.ts';
import { errorRecordSchema, type VectorsDocument, vectorsDocumentSchema } from '../../shared/pipeline/outputs.ts';
import { buildDocx, buildPdf } from '../fixtures/document-builder.ts';
import { TINY_VOCAB } from '../fixtures/tiny-models.ts';
import { REPO_DIR } from '../helpers/shared-dir.ts';
import { listKeys, readJson, startTestStack, testResources, waitFor } from '../helpers/stack.ts';
import { tinyModel } from '../helpers/tiny.ts';

const WORDS = TINY_VOCAB.filter((token) => /^[a-z]+$/.test(token));
const sentence = (seed: number, length: number) => Array.from({ length }, (_, i) => WORDS[(seed * 5 + i * 3) % WORDS.length]).join(' ');
const MAX_INPUT_BYTES = 100_000;

describe('pipeline: PDF, HTML, DOCX and CSV documents', () => {
  let stack: LocalStack;
  let model: Awaited<ReturnType<typeof tinyModel>>;
  const resources = testResources({ batchSize: 10 });
  const bucket = resources.names.bucket;
  const bodies: Record<string, unknown>[] = [];

  before(async () => {
    model = await tinyModel('text', { maxTokens: 16 });
    stack = await startTestStack(
      // Small chunks and parts: a long PDF page is several chunks, and the PDF goes through the
      // work queue in parts (whose worker reads it again and restores the pages).
      {
        MODEL_ID: 'tiny/text',
        MODEL_DIR: model.dir,
        CHUNK_OVERLAP_TOKENS: '2',
        PART_TOKENS: '40',
        MAX_INPUT_BYTES: String(MAX_INPUT_BYTES),
      },
      resources,
      {
        wrapWorker: (worker) => async (event: SQSEvent, context) => {
          for (const record of event.Records) bodies.push(JSON.parse(record.body));
          return worker(event, context);
        },
      },
    );
  });
  after(async () => {
    await stack?.stop();
    await model?.cleanup();
  });

  const put = (key: string, body: string | Uint8Array) =>
    stack.services.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
  const waitForKeys = (what: string, expected: readonly string[]) =>
    waitFor(
      what,
      async () => {
        const present = await listKeys(stack.services.s3, bucket);
        return expected.every((key) => present.includes(key)) ? present : undefined;
      },
      120_000,
    );

  /** Asserts each chunk's vector is the engine's vector of its slice of the text it says it comes from. */
  async function assertVectorsOf(document: VectorsDocument, textOf: (chunk: VectorsDocument['chunks'][number]) => string) {
    const engine = stack.services.engine as TextEngine;
    const slices = document.chunks.map((chunk) => {
      const text = textOf(chunk);
      assert.ok(
        chunk.start < chunk.end && chunk.end <= text.length,
        `${document.source.key}: chunk ${chunk.start}..${chunk.end} of ${text.length}`,
      );
      return text.slice(chunk.start, chunk.end);
    });
    const expected = await engine.embed(slices, { truncate: true, inputType: 'passage' });
    document.chunks.forEach((chunk, index) => {
      assert.ok(cosine(chunk.vector!, expected.embeddings[index]) > 0.99999, `${document.source.key}: chunk ${index} (${slices[index]})`);
    });
  }

  test('each document gets its vectors: PDF chunks carry their page, CSV chunks their row', async () => {
    const s3 = stack.services.s3;
    // Page 2 is long: several chunks, and more tokens than one part holds. pdf.js ends each line with a line break.
    const pageLines = [[sentence(1, 6)], [0, 1, 2, 3, 4].map((line) => sentence(2 + line, 9)), [sentence(8, 5)]];
    const pages = pageLines.map((lines) => lines.join('\n'));
    const rows = [
      ['cat', sentence(4, 5)],
      ['dog', sentence(5, 3)],
      ['fox', sentence(6, 4)],
    ];
    const paragraphs = [sentence(7, 4), sentence(8, 6)];
    await Promise.all([
      put('docs/report.pdf', buildPdf(pageLines.map((lines) => ({ lines })))),
      put(
        'docs/page.html',
        `<html><head><style>p { margin: 0 }</style><script>track("visit")</script></head><body><h1>${sentence(9, 3)}</h1><p>${sentence(10, 5)} <a href="https://example.com/long/link">${sentence(11, 2)}</a></p></body></html>`,
      ),
      put('docs/letter.docx', await buildDocx(paragraphs)),
      put('docs/animals.csv', `name,description\n${rows.map((row) => row.join(',')).join('\n')}\n`),
    ]);
    const keys = ['docs/report.pdf', 'docs/page.html', 'docs/letter.docx', 'docs/animals.csv'];
    await waitForKeys(
      'four outputs',
      keys.map((key) => `${key}.vectors.json`),
    );
    const [pdf, html, docx, csv] = await Promise.all(keys.map((key) => readJson(s3, bucket, `${key}.vectors.json`, vectorsDocumentSchema)));

    // PDF: chunks of every page, in order, with item = page position and page = its number.
    assert.deepEqual([...new Set(pdf.chunks.map((chunk) => chunk.page))], [1, 2, 3]);
    assert.ok(pdf.chunks.filter((chunk) => chunk.page === 2).length > 2, 'the long page is several chunks');
    for (const chunk of pdf.chunks) assert.equal(chunk.item, chunk.page! - 1);
    assert.ok(pdf.chunks.every((chunk) => chunk.row === undefined));
    await assertVectorsOf(pdf, (chunk) => pages[chunk.item!]);
    const parts = bodies.filter((body) => (body.vectorizer_part as { key?: string } | undefined)?.key === 'docs/report.pdf');
    assert.ok(parts.length >= 2, `the PDF went through the work queue in parts (${parts.length})`);

    // CSV: one text per data row, `header: value` lines, row = 1-based data row.
    assert.deepEqual(
      csv.chunks.map((chunk) => [chunk.item, chunk.row]),
      [
        [0, 1],
        [1, 2],
        [2, 3],
      ],
    );
    await assertVectorsOf(csv, (chunk) => `name: ${rows[chunk.item!][0]}\ndescription: ${rows[chunk.item!][1]}`);

    // HTML: the heading and paragraph, link text without its URL, no style or script.
    assert.ok(html.chunks.every((chunk) => chunk.item === undefined && chunk.page === undefined && chunk.row === undefined));
    await assertVectorsOf(html, () => `${sentence(9, 3)}\n\n${sentence(10, 5)} ${sentence(11, 2)}`);

    // DOCX: the paragraphs, separated by blank lines.
    await assertVectorsOf(docx, () => `${paragraphs.join('\n\n')}\n\n`);
    assert.ok(docx.chunks.every((chunk) => chunk.page === undefined && chunk.row === undefined));

    const present = await listKeys(s3, bucket);
    assert.deepEqual(
      present.filter((key) => key.startsWith('docs/') && key.endsWith('.error.json')),
      [],
    );
  });

  test('broken, encrypted, scanned and oversized documents get an error record with their code', async () => {
    const s3 = stack.services.s3;
    const good = buildPdf([{ lines: [sentence(12, 5)] }, { lines: [sentence(13, 5)] }]);
    const cases: Record<string, { body: string | Uint8Array; code: string; message: RegExp }> = {
      'bad/truncated.pdf': {
        body: good.subarray(0, Math.floor(good.length / 2)),
        code: 'INVALID_INPUT_DATA',
        message: /truncated\.pdf is not a readable PDF/,
      },
      'bad/encrypted.pdf': {
        body: readFileSync(join(REPO_DIR, 'tests/fixtures/documents/encrypted.pdf')),
        code: 'ENCRYPTED_DOCUMENT',
        message: /needs a password/,
      },
      'bad/scanned.pdf': {
        body: buildPdf([
          { lines: [], drawing: true },
          { lines: [], drawing: true },
        ]),
        code: 'NO_TEXT_LAYER',
        message: /has 2 pages but no text layer/,
      },
      'bad/latin1.html': { body: Buffer.from('<p>caf\xe9</p>', 'latin1'), code: 'INVALID_INPUT_DATA', message: /not valid UTF-8/ },
      'bad/blank.html': {
        body: '<html><body><script>run()</script><img src="x.png"></body></html>',
        code: 'EMPTY_DOCUMENT',
        message: /no text/,
      },
      'bad/not-a-zip.docx': { body: 'a text file renamed .docx', code: 'INVALID_INPUT_DATA', message: /not a readable \.docx document/ },
      'bad/quote.csv': {
        body: 'a,b\n1,"unbalanced\n2,3\n',
        code: 'INVALID_INPUT_DATA',
        message: /cannot be parsed as CSV: Quote Not Closed/,
      },
      // Over MAX_INPUT_BYTES: refused before its body is read, like any other file.
      'bad/huge.csv': {
        body: `text\n${`${sentence(14, 8)}\n`.repeat(Math.ceil(MAX_INPUT_BYTES / 30))}`,
        code: 'PAYLOAD_TOO_LARGE',
        message: /the limit is 100000 bytes/,
      },
    };
    await Promise.all(Object.entries(cases).map(([key, { body }]) => put(key, body)));
    await waitForKeys(
      'eight error records',
      Object.keys(cases).map((key) => `${key}.error.json`),
    );
    for (const [key, { code, message }] of Object.entries(cases)) {
      const record = await readJson(s3, bucket, `${key}.error.json`, errorRecordSchema);
      assert.equal(record.error.code, code, `${key}: ${record.error.message}`);
      assert.match(record.error.message, message, key);
      assert.ok(record.error.status >= 400 && record.error.status < 500, `${key}: permanent`);
      assert.match(record.error.message, new RegExp(key.replace('.', '\\.')), `${key}: the message names the file`);
    }
    const present = await listKeys(s3, bucket);
    assert.deepEqual(
      present.filter((key) => key.startsWith('bad/') && key.endsWith('.vectors.json')),
      [],
    );
  });
});
