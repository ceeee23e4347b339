/** Model resolution at start: MODEL_DIR checks, the cache, downloads from a hub, clear errors. */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { loadConfig } from '../../shared/config.ts';
import { findCatalogEntry } from '../../shared/models/catalog.ts';
import type { DownloadProgress } from '../../shared/models/download.ts';
import { resolveModel } from '../../shared/models/resolve.ts';
import { startFakeHub } from '../helpers/fake-hub.ts';
import { invoke, servicesFor } from '../helpers/services.ts';
import { tinyModel } from '../helpers/tiny.ts';

const CATALOG_ID = 'Xenova/bge-small-en-v1.5';

async function rejectsConfiguration(promise: Promise<unknown>, pattern: RegExp): Promise<void> {
  await assert.rejects(promise, (error: { code: string; message: string }) => {
    assert.equal(error.code, 'CONFIGURATION_ERROR');
    assert.match(error.message, pattern);
    return true;
  });
}

describe('model resolution', () => {
  let text: Awaited<ReturnType<typeof tinyModel>>;
  let hubRepo: string;
  let work: string;
  let hub: Awaited<ReturnType<typeof startFakeHub>>;

  before(async () => {
    text = await tinyModel('text');
    work = await mkdtemp(join(tmpdir(), 'vectorizer-resolve-'));
    // The hub copy of the catalog model: the tiny files, with the ONNX file where the catalog expects it.
    const entry = findCatalogEntry(CATALOG_ID)!;
    const hubModel = await tinyModel('text', { hidden: 384 }); // the catalog row's dimension
    hubRepo = hubModel.dir;
    if (entry.file !== 'onnx/model.onnx') {
      const { mkdir } = await import('node:fs/promises');
      await mkdir(join(hubRepo, entry.file, '..'), { recursive: true });
      await rename(join(hubRepo, 'onnx', 'model.onnx'), join(hubRepo, entry.file));
    }
    hub = await startFakeHub({ [CATALOG_ID]: hubRepo });
  });
  after(async () => {
    await hub?.stop();
    await text?.cleanup();
    await rm(work, { recursive: true, force: true });
  });

  test('a catalog model missing from the cache is downloaded once, with progress, then served', async () => {
    const cacheDir = join(work, 'cache');
    const env = { MODEL_ID: CATALOG_ID, MODEL_CACHE_DIR: cacheDir, HF_ENDPOINT: hub.url };
    const progress: DownloadProgress[] = [];
    const spec = await resolveModel(loadConfig(env).model, { onProgress: (p) => progress.push(p) });
    assert.equal(spec.dir, join(cacheDir, CATALOG_ID));
    assert.ok(existsSync(join(spec.dir, spec.file)));
    assert.ok(existsSync(join(spec.dir, 'tokenizer.json')));
    assert.ok(progress.some((p) => p.done && p.file === spec.file && p.total !== undefined && p.loaded === p.total));
    const downloads = hub.requests.length;
    const runtime = await servicesFor(env);
    try {
      const response = await invoke<{ count: number }>(runtime, { messages: ['a cat'] });
      assert.equal(response.count, 1);
    } finally {
      await runtime.dispose();
    }
    assert.equal(hub.requests.length, downloads, 'the second start read the cache, not the hub');
  });

  test('offline: an unreachable hub says how to set MODEL_DIR; MODEL_DOWNLOAD=false refuses', async () => {
    const cacheDir = join(work, 'empty-cache');
    await rejectsConfiguration(
      resolveModel(loadConfig({ MODEL_ID: CATALOG_ID, MODEL_CACHE_DIR: cacheDir, HF_ENDPOINT: 'http://127.0.0.1:9' }).model),
      /Set MODEL_DIR/,
    );
    await rejectsConfiguration(
      resolveModel(loadConfig({ MODEL_ID: CATALOG_ID, MODEL_CACHE_DIR: cacheDir, MODEL_DOWNLOAD: 'false' }).model),
      /MODEL_DOWNLOAD=false/,
    );
    assert.ok(
      !existsSync(join(cacheDir, CATALOG_ID, 'onnx')) || !existsSync(join(cacheDir, CATALOG_ID, findCatalogEntry(CATALOG_ID)!.file)),
      'no half file left behind',
    );
  });

  test('a hub 404 on a required file names the URL', async () => {
    await rejectsConfiguration(
      resolveModel(
        loadConfig({ MODEL_ID: CATALOG_ID, MODEL_CACHE_DIR: join(work, 'c404'), HF_ENDPOINT: hub.url, MODEL_FILE: 'onnx/model_fp16.onnx' })
          .model,
      ),
      /onnx\/model_fp16\.onnx: HTTP 404/,
    );
  });

  test('each MODEL_DIR problem names the variable, the value and what was expected', async () => {
    await rejectsConfiguration(
      resolveModel(loadConfig({ MODEL_ID: 'x/y', MODEL_DIR: join(work, 'nope') }).model),
      /MODEL_DIR=".*nope" does not exist/,
    );
    await rejectsConfiguration(
      resolveModel(loadConfig({ MODEL_ID: 'x/y' }).model),
      /MODEL_ID="x\/y" is not in the catalog and MODEL_DIR is not set/,
    );
    await rejectsConfiguration(
      resolveModel(loadConfig({ MODEL_ID: 'x/y', MODEL_DIR: text.dir, MODEL_FILE: 'onnx/model_int8.onnx' }).model),
      /MODEL_FILE="onnx\/model_int8\.onnx" was not found .* set MODEL_FILE to one of onnx\/model\.onnx/,
    );
    const noTokenizer = await tinyModel('text');
    await rm(join(noTokenizer.dir, 'tokenizer.json'));
    await rejectsConfiguration(resolveModel(loadConfig({ MODEL_ID: 'x/y', MODEL_DIR: noTokenizer.dir }).model), /has no tokenizer\.json/);
    await noTokenizer.cleanup();
  });

  test('an id outside the catalog takes its type from config.json, and MODEL_TYPE overrides it', async () => {
    assert.equal((await resolveModel(loadConfig({ MODEL_ID: 'someone/bert', MODEL_DIR: text.dir }).model)).type, 'text');
    assert.equal(
      (await resolveModel(loadConfig({ MODEL_ID: 'someone/bert', MODEL_DIR: text.dir, MODEL_TYPE: 'sparse' }).model)).type,
      'sparse',
    );
  });
});
