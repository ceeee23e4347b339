/** `vectorizer download` (what Dockerfile.variant runs) against a local server that serves files like the hub. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { findCatalogEntry } from '../../shared/models/catalog.ts';
import { startFakeHub } from '../helpers/fake-hub.ts';
import { REPO_DIR } from '../helpers/shared-dir.ts';
import { tinyModel } from '../helpers/tiny.ts';

const ID = 'Xenova/all-MiniLM-L6-v2';

describe('vectorizer download', () => {
  let repo: Awaited<ReturnType<typeof tinyModel>>;
  let work: string;
  let hub: Awaited<ReturnType<typeof startFakeHub>>;
  let badHub: Awaited<ReturnType<typeof startFakeHub>>;

  before(async () => {
    repo = await tinyModel('text', { hidden: 384 }); // the catalog row's dimension
    // The catalog default of this id is the quantized file: serve the tiny model under that name.
    await rename(join(repo.dir, 'onnx', 'model.onnx'), join(repo.dir, findCatalogEntry(ID)!.file));
    work = await mkdtemp(join(tmpdir(), 'vectorizer-download-'));
    hub = await startFakeHub({ [ID]: repo.dir });
    badHub = await startFakeHub({ [ID]: repo.dir }, { lfsSha256: () => '0'.repeat(64) });
  });
  after(async () => {
    await hub?.stop();
    await badHub?.stop();
    await repo?.cleanup();
    await rm(work, { recursive: true, force: true });
  });

  /** Runs the CLI without blocking this process, which serves the fake hub. */
  const cli = (args: string[], env: Record<string, string>) =>
    new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, [join(REPO_DIR, 'bin', 'vectorizer.ts'), ...args], {
        env: { ...process.env, POWERTOOLS_LOG_LEVEL: 'ERROR', ...env },
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk) => (stdout += chunk));
      child.stderr.on('data', (chunk) => (stderr += chunk));
      child.on('close', (status) => resolve({ status, stdout, stderr }));
    });
  const download = (args: string[], env: Record<string, string>) => cli(['download', ...args], env);

  test('fetches every file the catalog variant needs, checks the LFS sha256, writes a manifest, then warms up', async () => {
    const dir = join(work, 'model');
    const run = await download(['--model', ID, '--dir', dir, '--revision', 'main'], { HF_ENDPOINT: hub.url });
    assert.equal(run.status, 0, run.stderr);
    const entry = findCatalogEntry(ID)!;
    for (const file of ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json', entry.file])
      assert.ok(existsSync(join(dir, file)), file);
    const manifest = JSON.parse(run.stdout);
    assert.equal(manifest.commit, 'c0ffee'.padEnd(40, '0'));
    assert.equal(
      manifest.files[entry.file].sha256,
      createHash('sha256')
        .update(readFileSync(join(dir, entry.file)))
        .digest('hex'),
    );
    assert.match(run.stderr, /100%/);
    const warm = await cli(['warmup'], { MODEL_ID: ID, MODEL_DIR: dir, MODEL_DOWNLOAD: 'false' });
    assert.equal(warm.status, 0, warm.stderr);
    const summary = JSON.parse(warm.stdout);
    assert.equal(summary.count, 2);
    // The optimised graph is saved beside the model (and was checked to give the same response).
    assert.match(summary.optimized_graph, /\.optimized-ort[\d.]+\.onnx$/);
    assert.ok(existsSync(summary.optimized_graph), summary.optimized_graph);
    assert.equal(summary.optimized_graph.startsWith(dir), true);
  });

  test('a checksum mismatch (hub header or pinned file) fails and keeps nothing', async () => {
    const dir = join(work, 'bad');
    const run = await download(['--model', ID, '--dir', dir], { HF_ENDPOINT: badHub.url });
    assert.equal(run.status, 1);
    assert.match(run.stderr, /Checksum mismatch/);
    assert.ok(!existsSync(join(dir, findCatalogEntry(ID)!.file)));
    const pinned = join(work, 'checksums.json');
    await writeFile(pinned, JSON.stringify({ 'config.json': 'f'.repeat(64) }));
    const pinnedRun = await download(['--model', ID, '--dir', join(work, 'pinned'), '--checksums', pinned], { HF_ENDPOINT: hub.url });
    assert.equal(pinnedRun.status, 1);
    assert.match(pinnedRun.stderr, /config\.json.*expected sha256 f{64}/);
  });

  test('an id outside the catalog is a usage error', async () => {
    const run = await download(['--model', 'nobody/nothing', '--dir', join(work, 'x')], { HF_ENDPOINT: hub.url });
    assert.equal(run.status, 2);
    assert.match(run.stderr, /not in the catalog/);
  });
});
