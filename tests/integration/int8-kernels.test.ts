/**
 * A u8s8 int8 model (signed weights, as hub exports and `quantize_dynamic` store them) gives the
 * reference vectors on every CPU: where ONNX Runtime's u8s8 kernels saturate (x86 without VNNI)
 * the sessions load its unsigned-weight copy. The bench model's int8 file already stores unsigned
 * weights; its weights are moved back to signed here to stand in for a hub export.
 */
import assert from 'node:assert/strict';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { warmupModel } from '../../shared/cli/warmup.ts';
import { cpuFlags, storedCopyPath, u8s8Saturates } from '../../shared/engines/session/int8-kernels.ts';
import { shiftInt8Weights } from '../../shared/engines/session/int8-weights.ts';
import { cosine } from '../../shared/math/vector.ts';
import { invokeDense, servicesFor } from '../helpers/services.ts';
import { benchModelsDir, type Golden, NEEDS_SHARED, readGolden } from '../helpers/shared-dir.ts';

describe('int8 weights and the CPU (ORT_INT8_WEIGHTS)', { skip: NEEDS_SHARED }, () => {
  let dir: string;
  let golden: Golden;
  const saturates = u8s8Saturates(process.arch, cpuFlags());
  before(async () => {
    golden = readGolden();
    dir = await mkdtemp(join(tmpdir(), 'int8-kernels-'));
    await cp(join(benchModelsDir(), 'minilm-l6-dense'), dir, { recursive: true, filter: (source) => !/\.(optimized|u8u8)/.test(source) });
    const signed = shiftInt8Weights(await readFile(join(dir, 'onnx', 'model_quantized.onnx')), 'signed');
    assert.ok('model' in signed && signed.tensors >= 72, 'the bench model has its 36 MatMulInteger weights and zero points');
    await writeFile(join(dir, 'onnx', 'model_quantized.onnx'), signed.model);
  });
  after(() => rm(dir, { recursive: true, force: true }));

  const env = (extra: Record<string, string> = {}) => ({
    MODEL_ID: 'Xenova/all-MiniLM-L6-v2',
    MODEL_DIR: dir,
    MODEL_FILE: 'onnx/model_quantized.onnx',
    ...extra,
  });

  async function assertGolden(settings: Record<string, string>) {
    const services = await servicesFor(env(settings));
    try {
      const reference = golden.dense['model_quantized.onnx'];
      const response = await invokeDense(services, { messages: golden.texts });
      for (const [index, embedding] of response.embeddings.entries()) {
        const similarity = cosine(embedding, reference.embeddings[index]);
        assert.ok(
          similarity >= 0.999,
          `text ${index}: cosine ${similarity} < 0.999 (${JSON.stringify(settings)}, saturating CPU: ${saturates})`,
        );
      }
    } finally {
      await services.dispose();
    }
  }

  test('the unsigned copy gives the reference vectors on this CPU, whatever it is', () => assertGolden({ ORT_INT8_WEIGHTS: 'unsigned' }));

  test('by default the u8s8 export gives the reference vectors too (the copy is loaded where u8s8 saturates)', () => assertGolden({}));

  test('vectorizer warmup writes the copy the model lacks and compares it with the export where that is exact', async () => {
    const model = join(dir, 'onnx', 'model_quantized.onnx');
    const summary = await warmupModel({ ...env(), POWERTOOLS_LOG_LEVEL: 'ERROR' });
    assert.ok(summary.int8_weights.unsigned.startsWith(storedCopyPath(model, 'unsigned')), summary.int8_weights.unsigned);
    assert.match(summary.int8_weights.signed, /^none: nothing to move/);
    if (saturates) assert.match(summary.int8_weights.unsigned, /not compared on this host/);
    else {
      const difference = Number(/largest difference from the model as exported: ([^)]+)\)/.exec(summary.int8_weights.unsigned)?.[1]);
      assert.ok(difference <= 1e-4, summary.int8_weights.unsigned);
    }
  });
});
