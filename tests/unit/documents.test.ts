/** Documents beyond plain text: PDF pages, HTML, DOCX and CSV/TSV rows, their failures, and page/row provenance in the chunks. */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import JSZip from 'jszip';
import { loadConfig } from '../../shared/config.ts';
import type { VectorizerError } from '../../shared/errors.ts';
import { DOCUMENT_EXTENSIONS, readTextDocument, TEXT_EXTENSIONS } from '../../shared/pipeline/documents.ts';
import { chunkOutputSchema } from '../../shared/pipeline/outputs.ts';
import { chunksOfPart, partMessage } from '../../shared/pipeline/parts.ts';
import { chunkDocument, embedChunks, itemsByPosition, withProvenance } from '../../shared/pipeline/text-chunks.ts';
import { workContext } from '../../shared/pipeline/work.ts';
import { buildDocx, buildPdf } from '../fixtures/document-builder.ts';
import { REPO_DIR } from '../helpers/shared-dir.ts';

const MODEL = 'test/model';
const utf8 = (text: string) => Buffer.from(text, 'utf8');
const read = (key: string, bytes: Uint8Array, options = {}) => readTextDocument(key, bytes, `s3://bucket/${key}`, MODEL, options);

/** Asserts that reading rejects with this code, and a message that matches. */
async function assertRefused(promise: Promise<unknown>, code: string, message: RegExp): Promise<VectorizerError> {
  let refused: VectorizerError | undefined;
  await assert.rejects(promise, (error: VectorizerError) => {
    assert.equal(error.code, code, error.message);
    assert.ok(error.isClientError, `${code} is permanent (4xx)`);
    assert.match(error.message, message);
    refused = error;
    return true;
  });
  return refused as VectorizerError;
}

describe('PDF', () => {
  test('one item per page, with its 1-based page; a page without text is left out', async () => {
    const pdf = buildPdf([{ lines: ['First page, first line', 'first page (second line)'] }, { lines: [] }, { lines: ['Third page'] }]);
    const items = await read('docs/report.pdf', pdf);
    assert.deepEqual(
      items.map(({ item, page }) => ({ item, page })),
      [
        { item: 0, page: 1 },
        { item: 2, page: 3 },
      ],
    );
    assert.match(items[0].text, /^First page, first line\s+first page \(second line\)$/);
    assert.equal(items[1].text, 'Third page');
  });

  test('the extension is matched in any case', async () => {
    const items = await read('SCAN.PDF', buildPdf([{ lines: ['upper case name'] }]));
    assert.equal(items[0].text, 'upper case name');
  });

  test('an encrypted PDF is refused as ENCRYPTED_DOCUMENT', async () => {
    const encrypted = readFileSync(join(REPO_DIR, 'tests/fixtures/documents/encrypted.pdf'));
    await assertRefused(read('secret.pdf', encrypted), 'ENCRYPTED_DOCUMENT', /s3:\/\/bucket\/secret\.pdf is an encrypted PDF/);
  });

  test('a truncated or non-PDF file is INVALID_INPUT_DATA naming the file', async () => {
    const pdf = buildPdf([{ lines: ['some text'] }, { lines: ['more text'] }]);
    await assertRefused(
      read('cut.pdf', pdf.subarray(0, Math.floor(pdf.length / 2))),
      'INVALID_INPUT_DATA',
      /s3:\/\/bucket\/cut\.pdf is not a readable PDF/,
    );
    await assertRefused(read('fake.pdf', utf8('just text, no PDF')), 'INVALID_INPUT_DATA', /fake\.pdf is not a readable PDF/);
    await assertRefused(read('empty.pdf', new Uint8Array(0)), 'INVALID_INPUT_DATA', /empty\.pdf is not a readable PDF/);
  });

  test('pages without any text (a scan) are NO_TEXT_LAYER, saying how many pages', async () => {
    const scanned = buildPdf([{ lines: [], drawing: true }, { lines: [], drawing: true }, { lines: [] }]);
    await assertRefused(
      read('scan.pdf', scanned),
      'NO_TEXT_LAYER',
      /scan\.pdf has 3 pages but no text layer \(a scanned PDF\? run OCR first\)/,
    );
  });

  test("the caller's bytes are left intact (pdf.js takes ownership of what it is given)", async () => {
    const pdf = buildPdf([{ lines: ['kept'] }]);
    const before = Buffer.from(pdf);
    await read('a.pdf', pdf);
    assert.equal(pdf.length, before.length);
    assert.ok(pdf.equals(before));
  });
});

describe('HTML', () => {
  const page = `<!doctype html>
<html><head><title>Title only in head</title>
<style>body { color: red } .hidden-style-rule {}</style>
<script>var secretScript = "never embedded";</script></head>
<body>
  <h1>Release notes</h1>
  <p>Read the <a href="https://example.com/very/long/url?x=1">full changelog</a> first. Fish &amp; chips.</p>
  <img src="diagram.png" alt="a diagram">
  <ul><li>faster start</li><li>smaller image</li></ul>
  <noscript>Please enable JavaScript</noscript>
  <script type="module">import "tracking";</script>
</body></html>`;

  test('the readable text: no markup, scripts, styles, URLs or images; entities decoded; no wrapping', async () => {
    const [item, ...rest] = await read('site/notes.html', utf8(page));
    assert.equal(rest.length, 0);
    assert.equal(item.item, undefined);
    assert.match(item.text, /^Release notes\n/);
    assert.match(item.text, /Read the full changelog first\. Fish & chips\./);
    assert.match(item.text, /faster start/);
    for (const absent of [
      '<',
      'secretScript',
      'tracking',
      'color',
      'hidden-style-rule',
      'https://',
      'diagram',
      'JavaScript',
      'Title only',
    ]) {
      assert.ok(!item.text.includes(absent), `${JSON.stringify(absent)} is not in ${JSON.stringify(item.text)}`);
    }
  });

  test('.htm too; a long paragraph stays one line', async () => {
    const long = Array.from({ length: 60 }, (_, index) => `word${index}`).join(' ');
    const [item] = await read('old.HTM', utf8(`<p>${long}</p>`));
    assert.equal(item.text, long);
  });

  test('a page with no text is EMPTY_DOCUMENT; bytes that are not UTF-8 are INVALID_INPUT_DATA', async () => {
    await assertRefused(
      read('blank.html', utf8('<html><body><script>x()</script><img src="a.png"></body></html>')),
      'EMPTY_DOCUMENT',
      /blank\.html has no text/,
    );
    await assertRefused(
      read('latin1.html', Buffer.from([0x3c, 0x70, 0x3e, 0xe9, 0xe8, 0x3c, 0x2f, 0x70, 0x3e])),
      'INVALID_INPUT_DATA',
      /latin1\.html is not valid UTF-8/,
    );
  });

  test('elements nested too deeply to convert are INVALID_INPUT_DATA, not a crash', async () => {
    const deep = `${'<div>'.repeat(100_000)}deep${'</div>'.repeat(100_000)}`;
    await assertRefused(read('deep.html', utf8(deep)), 'INVALID_INPUT_DATA', /deep\.html is nested too deeply/);
  });
});

describe('DOCX', () => {
  test("the document's paragraphs, as one text", async () => {
    const docx = await buildDocx(['Quarterly report', 'Revenue grew by 12% <net>.', 'Costs & risks are listed below.']);
    const [item, ...rest] = await read('reports/q3.docx', docx);
    assert.equal(rest.length, 0);
    assert.equal(item.text.trim(), 'Quarterly report\n\nRevenue grew by 12% <net>.\n\nCosts & risks are listed below.');
  });

  test('not a zip, a truncated zip, or a zip without word/document.xml: INVALID_INPUT_DATA naming the file', async () => {
    const docx = await buildDocx(['text']);
    const otherZip = await new JSZip().file('notes.txt', 'not a document').generateAsync({ type: 'nodebuffer' });
    await assertRefused(
      read('plain.docx', utf8('plain text renamed')),
      'INVALID_INPUT_DATA',
      /plain\.docx is not a readable \.docx document/,
    );
    await assertRefused(read('cut.docx', docx.subarray(0, docx.length - 30)), 'INVALID_INPUT_DATA', /cut\.docx is not a readable \.docx/);
    await assertRefused(read('other.docx', otherZip), 'INVALID_INPUT_DATA', /other\.docx is not a readable \.docx.*main document part/);
  });

  test('a document without text is EMPTY_DOCUMENT', async () => {
    await assertRefused(read('blank.docx', await buildDocx(['', '  '])), 'EMPTY_DOCUMENT', /blank\.docx has no text/);
  });

  test('a zip that expands past MAX_INPUT_BYTES is refused unread (a few KB can hold MBs of XML)', async () => {
    const docx = await buildDocx(Array.from({ length: 5000 }, (_, index) => `paragraph ${index} ${'word '.repeat(10)}`));
    const xml = (await (await JSZip.loadAsync(docx)).file('word/document.xml')?.async('uint8array'))?.length ?? 0;
    assert.ok(docx.length < 100_000 && xml > 300_000, `${docx.length} bytes zipped, ${xml} of XML`);
    const refused = await assertRefused(
      read('bomb.docx', docx, { maxInputBytes: 200_000 }),
      'PAYLOAD_TOO_LARGE',
      /bomb\.docx expands to \d+ bytes when unzipped; the limit is 200000 \(MAX_INPUT_BYTES\)/,
    );
    assert.ok((refused.details?.expanded_bytes as number) > xml);
    // Under the limit it is read.
    const [item] = await read('bomb.docx', docx, { maxInputBytes: 10_000_000 });
    assert.match(item.text, /paragraph 4999/);
  });
});

describe('CSV and TSV', () => {
  const csv = '\ufeffname,city,notes\nAda,London,"first programmer, ""Note G"""\n\nGrace,,"multi\nline"\n,,\nLinus,Helsinki,kernel\n';

  test('one item per data row: `header: value` lines, empty values left out, the 1-based row beside the position', async () => {
    const items = await read('people.csv', utf8(csv));
    assert.deepEqual(items, [
      { text: 'name: Ada\ncity: London\nnotes: first programmer, "Note G"', item: 0, row: 1 },
      { text: 'name: Grace\nnotes: multi\nline', item: 1, row: 2 },
      // Row 3 has no values: left out, the rows after it keep their numbers.
      { text: 'name: Linus\ncity: Helsinki\nnotes: kernel', item: 3, row: 4 },
    ]);
  });

  test('CSV_TEXT_COLUMN: only that column is the text', async () => {
    const items = await read('people.csv', utf8(csv), { csvTextColumn: 'notes' });
    assert.deepEqual(
      items.map(({ text, row }) => ({ text, row })),
      [
        { text: 'first programmer, "Note G"', row: 1 },
        { text: 'multi\nline', row: 2 },
        { text: 'kernel', row: 4 },
      ],
    );
  });

  test('CSV_TEXT_COLUMN is read by loadConfig and reaches the reader as the pipeline setting', async () => {
    const config = loadConfig({ MODEL_ID: MODEL, CSV_TEXT_COLUMN: ' city ' });
    assert.equal(config.pipeline.csvTextColumn, 'city');
    assert.equal(loadConfig({ MODEL_ID: MODEL }).pipeline.csvTextColumn, undefined);
    const items = await read('people.csv', utf8(csv), config.pipeline);
    assert.deepEqual(
      items.map((entry) => entry.text),
      ['London', 'Helsinki'],
    );
  });

  test('a configured column missing from the header: CSV_COLUMN_NOT_FOUND naming it and the columns', async () => {
    await assertRefused(
      read('people.csv', utf8(csv), { csvTextColumn: 'body' }),
      'CSV_COLUMN_NOT_FOUND',
      /people\.csv has no column "body" \(CSV_TEXT_COLUMN\); its header has "name", "city", "notes"/,
    );
  });

  test('an unbalanced quote or a row of another length: INVALID_INPUT_DATA naming the line', async () => {
    await assertRefused(
      read('quote.csv', utf8('a,b\n1,2\n3,"open\n4,5\n')),
      'INVALID_INPUT_DATA',
      /quote\.csv cannot be parsed as CSV: Quote Not Closed.*line \d/,
    );
    await assertRefused(
      read('short.csv', utf8('a,b\n1,2\n3\n4,5\n')),
      'INVALID_INPUT_DATA',
      /short\.csv cannot be parsed as CSV: .*expect 2, got 1 on line 3/,
    );
  });

  test('a header without rows is EMPTY_DOCUMENT; bytes that are not UTF-8 are INVALID_INPUT_DATA', async () => {
    await assertRefused(read('header.csv', utf8('a,b\n')), 'EMPTY_DOCUMENT', /header\.csv has no data rows/);
    await assertRefused(read('latin1.csv', Buffer.from([0x61, 0x0a, 0xe9, 0x0a])), 'INVALID_INPUT_DATA', /latin1\.csv is not valid UTF-8/);
  });

  test('.tsv: tab-separated, commas are text', async () => {
    const items = await read('terms.tsv', utf8('term\tdefinition\nvector\ta list of numbers, in order\n'));
    assert.deepEqual(items, [{ text: 'term: vector\ndefinition: a list of numbers, in order', item: 0, row: 1 }]);
  });
});

describe('the extension lists', () => {
  test('every document type is a text type, and the local stack notifies for each, in both cases', async () => {
    for (const extension of DOCUMENT_EXTENSIONS) assert.ok((TEXT_EXTENSIONS as readonly string[]).includes(extension), extension);
    const resources = JSON.parse(readFileSync(join(REPO_DIR, 'localstack/resources.json'), 'utf8'));
    const suffixes: string[] = resources.notifications[0].suffixes;
    for (const extension of TEXT_EXTENSIONS) {
      assert.ok(suffixes.includes(extension) && suffixes.includes(extension.toUpperCase()), `${extension} in localstack/resources.json`);
    }
  });

  test('an unknown extension is UNSUPPORTED_FILE_TYPE listing the types', async () => {
    await assertRefused(
      read('sheet.xlsx', utf8('x')),
      'UNSUPPORTED_FILE_TYPE',
      /\.xlsx is not a type the model test\/model embeds \(.*\.pdf.*\.csv/,
    );
  });
});

describe('parsers load on demand', () => {
  test("the worker's modules import no parser; a CSV file loads csv-parse and nothing else", () => {
    // A fresh process records every package the module graph resolves (module.registerHooks, Node 22.15+).
    const script = `
      import { registerHooks } from 'node:module';
      const parsers = new Set();
      registerHooks({ resolve(specifier, context, next) {
        const name = /^(unpdf|html-to-text|mammoth|csv-parse)(\\/|$)/.exec(specifier)?.[1];
        if (name) parsers.add(name);
        return next(specifier, context);
      } });
      await import('./shared/worker-handler.ts');
      const atStart = [...parsers];
      const { readTextDocument } = await import('./shared/pipeline/documents.ts');
      await readTextDocument('a.txt', Buffer.from('plain'), 'a.txt', 'm');
      await readTextDocument('a.csv', Buffer.from('h\\nv\\n'), 'a.csv', 'm');
      console.log(JSON.stringify({ atStart, afterCsv: [...parsers] }));`;
    const output = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
      cwd: REPO_DIR,
      encoding: 'utf8',
      env: { ...process.env, POWERTOOLS_LOG_LEVEL: 'ERROR' },
    });
    assert.deepEqual(JSON.parse(output.trim().split('\n').at(-1) ?? ''), { atStart: [], afterCsv: ['csv-parse'] });
  });
});

describe('page and row provenance in the chunks', () => {
  // One token per word; a chunk holds at most 3 words.
  const counter = { countContentTokens: (text: string) => text.split(/\s+/).filter(Boolean).length, maxContentTokens: 3 };
  const embedder = {
    reads: 'texts' as const,
    tokens: counter,
    embed: async (batch: string[]) => batch.map((text) => ({ tokens: counter.countContentTokens(text), vector: [text.length, 1] })),
  };

  test('chunks of a page carry its page, chunks of a row its row; through a part message and back', async () => {
    const pages = await read('a.pdf', buildPdf([{ lines: ['one two three four five'] }, { lines: [] }, { lines: ['six seven'] }]));
    const { chunks, chunking } = chunkDocument(pages, counter, { chunkOverlapTokens: 0 });
    assert.deepEqual(
      chunks.map(({ item, page }) => [item, page]),
      [
        [0, 1],
        [0, 1],
        [2, 3],
      ],
    );
    const outputs = await embedChunks(['t', 't', 't'], chunks, embedder, workContext(), 100);
    assert.deepEqual(
      outputs.map((output) => chunkOutputSchema.parse(output).page),
      [1, 1, 3],
    );
    // A part message carries only the item's position; its worker reads the source again and restores the page.
    const message = partMessage({ bucket: 'b', key: 'a.pdf', etag: 'e', size: 1 }, chunks, { from: 1, to: 3 }, chunking);
    const restored = chunksOfPart(message.vectorizer_part).map((chunk) => withProvenance(chunk, itemsByPosition(pages)));
    assert.deepEqual(restored, chunks.slice(1));

    const rows = await read('r.csv', utf8('text\nalpha beta\n\ngamma\n'), { csvTextColumn: 'text' });
    const rowChunks = chunkDocument(rows, counter, { chunkOverlapTokens: 0 }).chunks;
    const rowOutputs = await embedChunks(['x', 'y'], rowChunks, embedder, workContext(), 100);
    assert.deepEqual(
      rowOutputs.map(({ item, row, page }) => ({ item, row, page })),
      [
        { item: 0, row: 1, page: undefined },
        { item: 1, row: 2, page: undefined },
      ],
    );
  });

  test('plain text and JSON chunks carry neither', async () => {
    const items = await read('a.jsonl', utf8('"one"\n"two"\n'));
    const { chunks } = chunkDocument(items, counter, { chunkOverlapTokens: 0 });
    assert.ok(chunks.every((chunk) => !('page' in chunk) && !('row' in chunk)));
  });
});
