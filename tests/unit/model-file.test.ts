import assert from 'node:assert/strict';
import { mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { modelFileToLoad, optimizedModelPath } from '../../shared/engines/session/model-file.js';

describe('optimised model graph', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vectorizer-optimized-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  test('is named after the model and the ONNX Runtime version', () => {
    assert.equal(
      optimizedModelPath('/opt/model/onnx/model_quantized.onnx', '1.30.0'),
      '/opt/model/onnx/model_quantized.optimized-ort1.30.0.onnx',
    );
  });

  test('is loaded when present and not older than the model; otherwise the model is', async () => {
    const model = join(dir, 'model.onnx');
    await writeFile(model, 'model');
    assert.equal(modelFileToLoad(model, '1.30.0'), model, 'no graph saved yet');
    const graph = optimizedModelPath(model, '1.30.0');
    await writeFile(graph, 'graph');
    assert.equal(modelFileToLoad(model, '1.30.0'), graph);
    assert.equal(modelFileToLoad(model, '1.31.0'), model, 'another runtime version ignores it');
    // The model replaced after the graph was saved: the graph is stale.
    const later = new Date(Date.now() + 60_000);
    await utimes(model, later, later);
    assert.equal(modelFileToLoad(model, '1.30.0'), model);
  });
});
