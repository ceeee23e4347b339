/**
 * The index follows the bucket, on the local stack with LanceDB for real: a mixed drop is
 * searchable and search equals a brute-force cosine search over the `.vectors.json` outputs;
 * overwrites, deletes, a delete-and-recreate and stale events leave the index, the sidecars and
 * the bucket agreeing; metadata and prefixes narrow searches.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { DeleteObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { s3EventNotification } from '../../local/notifications.ts';
import type { LocalStack } from '../../local/stack.ts';
import { cosine } from '../../shared/math/vector.ts';
import type { VectorsDocument } from '../../shared/pipeline/outputs.ts';
import { denseResponseSchema, searchResponseSchema } from '../../shared/request/schema.ts';
import { TINY_VOCAB } from '../fixtures/tiny-models.ts';
import {
  assertAgreement as checkAgreement,
  drained as drainedQueue,
  type IndexedStack,
  lanceRows,
  startIndexedStack,
} from '../helpers/index-check.ts';
import { invoke } from '../helpers/services.ts';
import { REPO_DIR } from '../helpers/shared-dir.ts';
import { listKeys, testResources, waitFor } from '../helpers/stack.ts';

const WORDS = TINY_VOCAB.filter((token) => /^[a-z]+$/.test(token));
const sentence = (seed: number, length: number) => Array.from({ length }, (_, i) => WORDS[(seed * 7 + i * 5) % WORDS.length]).join(' ');

/** 200 files: short texts, markdown, JSON arrays, JSONL, long documents (several chunks), and poison. */
function mixedDrop(): Map<string, string> {
  const files = new Map<string, string>();
  for (let i = 0; i < 70; i++) files.set(`docs/note-${i}.txt`, sentence(i, 6));
  for (let i = 0; i < 30; i++) files.set(`docs/readme-${i}.md`, `# ${sentence(i + 100, 2)}\n\n${sentence(i + 200, 5)}`);
  for (let i = 0; i < 30; i++) files.set(`data/items-${i}.json`, JSON.stringify([sentence(i + 300, 3), { text: sentence(i + 400, 4) }]));
  for (let i = 0; i < 30; i++)
    files.set(
      `data/lines-${i}.jsonl`,
      [sentence(i + 500, 4), JSON.stringify({ text: sentence(i + 600, 3) })].map((line, n) => (n ? line : JSON.stringify(line))).join('\n'),
    );
  for (let i = 0; i < 30; i++) files.set(`long/doc-${i}.txt`, sentence(i + 700, 40));
  for (let i = 0; i < 10; i++) files.set(`bad/poison-${i}.json`, '{"not": "an array"');
  return files;
}

describe('index sync: the LanceDB index follows the bucket', () => {
  let indexed: IndexedStack;
  let stack: LocalStack;
  let model: IndexedStack['model'];
  let indexDir: string;
  let sqs: SQSClient;
  const resources = testResources({ batchSize: 10 });
  const bucket = resources.names.bucket;

  before(async () => {
    indexed = await startIndexedStack(resources, { CHUNK_OVERLAP_TOKENS: '4' });
    ({ stack, model, indexDir, sqs } = indexed);
  });
  after(async () => {
    await indexed?.stop();
  });

  const s3 = () => stack.services.s3;
  const put = (key: string, body: string, metadata?: Record<string, string>) =>
    s3().send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ...(metadata ? { Metadata: metadata } : {}) }));
  const remove = (key: string) => s3().send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));

  const indexRows = () => lanceRows(indexDir, 'tiny/text');
  const drained = () => drainedQueue(sqs, stack.queueUrls[resources.names.queue]);
  const assertAgreement = async () => checkAgreement(stack, bucket, await indexRows());

  /** Search through the invoke handler equals a brute-force cosine search over the sidecars. */
  async function assertSearchMatchesBruteForce(query: string, documents: Map<string, VectorsDocument>, options: { prefix?: string } = {}) {
    const embedded = denseResponseSchema.parse(await invoke(stack.services, { messages: [query], input_type: 'query' }));
    const candidates = [...documents]
      .filter(([key]) => !options.prefix || key.startsWith(options.prefix))
      .flatMap(([key, document]) =>
        document.chunks.map((chunk, index) => ({ id: `${key}#${index}`, score: cosine(embedded.embeddings[0], chunk.vector as number[]) })),
      )
      .sort((a, b) => b.score - a.score);
    const response = searchResponseSchema.parse(await invoke(stack.services, { search: { query, top_k: 10, ...options } }));
    assert.equal(response.count, Math.min(10, candidates.length));
    const byId = new Map(candidates.map((candidate) => [candidate.id, candidate.score]));
    for (const [rank, result] of response.results.entries()) {
      const id = `${result.key}#${result.chunk}`;
      assert.ok(byId.has(id), `${id} is not a current chunk`);
      assert.ok(Math.abs(result.score - (byId.get(id) as number)) < 1e-4, `${id}: score ${result.score} vs ${byId.get(id)}`);
      // Same order as the brute force (ties may swap places, their scores may not).
      assert.ok(Math.abs(result.score - candidates[rank].score) < 1e-4, `rank ${rank}: ${result.score} vs ${candidates[rank].score}`);
    }
    // Recall 1.0: every chunk scoring above the last result is in the results.
    const last = response.results[response.results.length - 1]?.score ?? 1;
    const returned = new Set(response.results.map((result) => `${result.key}#${result.chunk}`));
    for (const candidate of candidates.filter((entry) => entry.score > last + 1e-4))
      assert.ok(returned.has(candidate.id), `missed ${candidate.id}`);
    return response;
  }

  test('a drop of 200 files is searchable, and search equals a brute-force cosine search over the sidecars', async () => {
    const files = mixedDrop();
    await Promise.all([...files].map(([key, body]) => put(key, body)));
    await waitFor('an output for every file', async () => {
      const keys = new Set(await listKeys(s3(), bucket));
      return [...files.keys()].every((key) => keys.has(`${key}.vectors.json`) || keys.has(`${key}.error.json`)) ? true : undefined;
    });
    await drained();
    const documents = await assertAgreement();
    assert.equal(documents.size, 190, 'the 10 poison files have no vectors');
    for (const query of ['quick brown fox', 'machine learning data', 'paris capital of france', 'deep neural networks'])
      await assertSearchMatchesBruteForce(query, documents);
    const narrowed = await assertSearchMatchesBruteForce('quick brown fox', documents, { prefix: 'data/' });
    assert.ok(narrowed.results.every((result) => result.key.startsWith('data/')));
  });

  test('overwrites, deletes, a delete-and-recreate and stale events: the index, sidecars and bucket agree', async () => {
    // This test's own files first (under sync/), embedded and indexed.
    const originals = new Map<string, string>();
    for (let i = 0; i < 41; i++) originals.set(`sync/note-${i}.txt`, sentence(i + 800, 6));
    originals.set('sync/long.txt', sentence(850, 40));
    originals.set('sync/poison.json', '{"not": "an array"');
    originals.set('sync/items.json', JSON.stringify([sentence(860, 3), sentence(861, 4)]));
    await Promise.all([...originals].map(([key, body]) => put(key, body)));
    await waitFor('the originals embedded', async () => {
      const keys = new Set(await listKeys(s3(), bucket));
      return [...originals.keys()].every((key) => keys.has(`${key}.vectors.json`) || keys.has(`${key}.error.json`)) ? true : undefined;
    });
    await drained();
    const before = await indexRows();
    assert.ok(before.filter((row) => row.key === 'sync/long.txt').length > 1, 'the long file has several chunks');

    for (let i = 0; i < 20; i++) await put(`sync/note-${i}.txt`, sentence(i + 900, 5));
    for (let i = 20; i < 40; i++) await remove(`sync/note-${i}.txt`);
    // A long document replaced by a short one: its extra chunks must go.
    await put('sync/long.txt', 'hello world');
    // A poison file fixed: its error record must go; a good file broken: its vectors must go.
    await put('sync/poison.json', JSON.stringify(['a fixed file']));
    await put('sync/items.json', 'not json at all');
    await remove('sync/note-40.txt');
    await put('sync/note-40.txt', 'recreated after a delete');
    await waitFor('the changes to reach the outputs', async () => {
      const keys = new Set(await listKeys(s3(), bucket));
      const done =
        !keys.has('sync/note-25.txt.vectors.json') && keys.has('sync/poison.json.vectors.json') && keys.has('sync/items.json.error.json');
      return done ? true : undefined;
    });
    await drained();
    // Stale events now: an ObjectCreated for an overwritten file (its old etag), an ObjectRemoved
    // for the recreated one. Both must change nothing.
    const oldEtag = before.find((row) => row.key === 'sync/note-3.txt')?.etag;
    for (const [key, eventName] of [
      ['sync/note-3.txt', 'ObjectCreated:Put'],
      ['sync/note-40.txt', 'ObjectRemoved:Delete'],
    ] as const) {
      const body = s3EventNotification({
        bucket,
        key,
        size: 1,
        etag: oldEtag,
        region: 'us-east-1',
        configurationId: 'stale',
        now: new Date(0),
        eventName,
      });
      await sqs.send(new SendMessageCommand({ QueueUrl: stack.queueUrls[resources.names.queue], MessageBody: JSON.stringify(body) }));
    }
    await drained();
    const documents = await assertAgreement();
    assert.equal(documents.get('sync/long.txt')?.count, 1);
    assert.ok(documents.has('sync/note-40.txt'), 'the recreated file is embedded again');
    assert.ok(documents.has('sync/poison.json') && !documents.has('sync/items.json'));
    for (let i = 20; i < 40; i++) assert.ok(!documents.has(`sync/note-${i}.txt`));
    const recreated = await assertSearchMatchesBruteForce('recreated after a delete', documents);
    assert.ok(recreated.results.length > 0);
  });

  test('user metadata (x-amz-meta-*) is stored with every chunk and filters searches', async () => {
    await put('team/ml.txt', 'machine learning with neural networks', { team: 'ml' });
    await put('team/ops.txt', 'machine learning in the data bucket', { team: 'ops' });
    await waitFor('both files embedded', async () => {
      const keys = new Set(await listKeys(s3(), bucket));
      return keys.has('team/ml.txt.vectors.json') && keys.has('team/ops.txt.vectors.json') ? true : undefined;
    });
    await drained();
    const filtered = searchResponseSchema.parse(
      await invoke(stack.services, { search: { query: 'machine learning', top_k: 50, filter: { team: 'ml' } } }),
    );
    assert.deepEqual(
      filtered.results.map((result) => result.key),
      ['team/ml.txt'],
    );
    assert.deepEqual(filtered.results[0].metadata, { team: 'ml' });
    assert.equal(filtered.results[0].text, 'machine learning with neural networks');
    const missing = searchResponseSchema.parse(
      await invoke(stack.services, { search: { query: 'machine learning', filter: { team: 'sales' } } }),
    );
    assert.equal(missing.count, 0);

    // `vectorizer search` in a process of its own, on the same index as the worker.
    const { POWERTOOLS_LOG_LEVEL: _level, ...inherited } = process.env;
    const cli = (args: string[]) =>
      spawnSync(process.execPath, [join(REPO_DIR, 'bin', 'vectorizer.ts'), 'search', ...args], {
        env: { ...inherited, MODEL_ID: 'tiny/text', MODEL_DIR: model.dir, INDEX_SINK: 'lancedb', INDEX_URI: indexDir },
        encoding: 'utf8',
      });
    const json = cli(['machine learning', '--filter', 'team=ml', '--top-k', '50', '--json']);
    assert.equal(json.status, 0, json.stderr);
    assert.deepEqual(searchResponseSchema.parse(JSON.parse(json.stdout)).results, filtered.results);
    const table = cli(['machine', 'learning', '--prefix', 'team/']);
    assert.equal(table.status, 0, table.stderr);
    assert.match(table.stdout, /^#\s+score\s+chunk\s+text/);
    assert.ok(table.stdout.includes(`s3://${bucket}/team/ml.txt#0`), table.stdout);
    assert.equal(cli(['--top-k', '3']).status, 2, 'a query is required');
  });

  test('a <key>.metadata.json sidecar adds filterable metadata, is re-applied when edited, and is never embedded', async () => {
    const sidecar = (attributes: unknown) => JSON.stringify({ metadataAttributes: attributes });
    const searchFor = async (filter: Record<string, string | number | boolean>) =>
      searchResponseSchema
        .parse(await invoke(stack.services, { search: { query: 'fast vector search', top_k: 50, filter } }))
        .results.map((result) => result.key);
    await put('meta/a.txt', 'fast vector search', { team: 'ml' });
    await put('meta/a.txt.metadata.json', sidecar({ project: 'alpha', year: { value: { type: 'NUMBER', numberValue: 2024 } } }));
    await put('meta/b.txt', 'fast vector search again');
    await put('meta/b.txt.metadata.json', '{"metadataAttributes": "not an object"}');
    await waitFor('the metadata applied', async () => ((await searchFor({ project: 'alpha' })).includes('meta/a.txt') ? true : undefined));
    await waitFor('the bad sidecar refused', async () =>
      (await listKeys(s3(), bucket)).includes('meta/b.txt.error.json') ? true : undefined,
    );
    await drained();
    assert.deepEqual(await searchFor({ project: 'alpha', team: 'ml', year: 2024 }), ['meta/a.txt']);
    const keys = await listKeys(s3(), bucket);
    assert.ok(!keys.some((key) => key.startsWith('meta/') && key.includes('.metadata.json.')), 'sidecars are not documents');
    assert.ok(!keys.includes('meta/b.txt.vectors.json'), 'a file with a malformed sidecar is not embedded');

    await put('meta/a.txt.metadata.json', sidecar({ project: 'beta' }));
    await waitFor('the edit applied', async () => ((await searchFor({ project: 'beta' })).includes('meta/a.txt') ? true : undefined));
    await drained();
    assert.deepEqual(await searchFor({ project: 'alpha' }), []);
    await put('meta/b.txt.metadata.json', sidecar({ project: 'beta' }));
    await waitFor('the fixed sidecar applied', async () =>
      (await searchFor({ project: 'beta' })).includes('meta/b.txt') ? true : undefined,
    );
    await drained();
    await assertAgreement();
  });
});
