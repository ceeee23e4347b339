/**
 * `vectorizer sync`: a bucket whose files never sent notifications gets its index (and sidecars)
 * by backfill; a second run finds everything current; after deletes and overwrites another run
 * removes and re-embeds exactly those. LanceDB for real, on the local stack's emulator.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { DeleteObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import type { LocalStack } from '../../local/stack.ts';
import { runSync } from '../../shared/cli/sync.ts';
import { TINY_VOCAB } from '../fixtures/tiny-models.ts';
import { EMULATOR_ENV } from '../helpers/emulator.ts';
import { assertAgreement, lanceRows } from '../helpers/index-check.ts';
import { startTestStack, testResources } from '../helpers/stack.ts';
import { tinyModel } from '../helpers/tiny.ts';

const WORDS = TINY_VOCAB.filter((token) => /^[a-z]+$/.test(token));
const sentence = (seed: number, length: number) => Array.from({ length }, (_, i) => WORDS[(seed * 13 + i * 7) % WORDS.length]).join(' ');

describe('vectorizer sync: backfill the index from the bucket', () => {
  let stack: LocalStack;
  let model: Awaited<ReturnType<typeof tinyModel>>;
  let indexDir: string;
  // No notification matches: files arrive as if they were there before the pipeline.
  const resources = testResources({ suffixes: ['.never'] });
  const bucket = resources.names.bucket;

  before(async () => {
    model = await tinyModel('text', { maxTokens: 16 });
    indexDir = await mkdtemp(join(tmpdir(), 'vectorizer-backfill-'));
    stack = await startTestStack({ MODEL_ID: 'tiny/text', MODEL_DIR: model.dir, INDEX_SINK: 'lancedb', INDEX_URI: indexDir }, resources);
  });
  after(async () => {
    await stack?.stop();
    await model?.cleanup();
    if (indexDir) await rm(indexDir, { recursive: true, force: true });
  });

  async function sync(): Promise<Record<string, number>> {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runSync(['--bucket', bucket, '--json'], {
      env: {
        ...EMULATOR_ENV,
        AWS_ENDPOINT_URL: stack.awsEndpoint,
        POWERTOOLS_LOG_LEVEL: 'ERROR',
        MODEL_ID: 'tiny/text',
        MODEL_DIR: model.dir,
        ORT_SESSIONS: '1',
        INDEX_SINK: 'lancedb',
        INDEX_URI: indexDir,
      },
      stdin: process.stdin,
      stdout: { write: (chunk: string) => out.push(chunk) },
      stderr: { write: (chunk: string) => err.push(chunk) },
    });
    assert.equal(code, 0, err.join(''));
    assert.match(err.join(''), /sync: \d+\/\d+ checked/, 'progress on stderr');
    return JSON.parse(out.join(''));
  }

  test('fills the index, finds it current, then removes and re-embeds what changed', async () => {
    const s3 = stack.services.s3;
    const put = (key: string, body: string) => s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
    for (let i = 0; i < 25; i++) await put(`old/note-${i}.txt`, sentence(i, i % 5 === 0 ? 30 : 6));
    await put('old/items.json', JSON.stringify([sentence(90, 3), sentence(91, 4)]));
    await put('old/poison.json', '{"not": "an array"');
    await put('old/picture.png', 'not embedded by a text model: an error record, as an event would give');

    const first = await sync();
    assert.deepEqual({ embedded: first.embedded, refused: first.refused, failed: first.failed }, { embedded: 26, refused: 2, failed: 0 });
    let documents = await assertAgreement(stack, bucket, await lanceRows(indexDir, 'tiny/text'));
    assert.equal(documents.size, 26);

    const second = await sync();
    assert.equal(second.embedded, 0);
    assert.equal(second.removed, 0);

    for (let i = 0; i < 5; i++) await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: `old/note-${i}.txt` }));
    for (let i = 5; i < 8; i++) await put(`old/note-${i}.txt`, sentence(i + 200, 4));
    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'old/poison.json' }));
    const third = await sync();
    assert.equal(third.embedded, 3);
    assert.equal(third.removed, 6, 'five deleted notes and the poison file, whose error record was left');
    documents = await assertAgreement(stack, bucket, await lanceRows(indexDir, 'tiny/text'));
    assert.equal(documents.size, 21);
  });
});
