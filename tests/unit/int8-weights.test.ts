import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as ort from 'onnxruntime-node';
import {
  int8ModelFor,
  nothingToMovePath,
  preferredStorage,
  storedCopyPath,
  u8s8Saturates,
} from '../../shared/engines/session/int8-kernels.ts';
import { shiftInt8Weights } from '../../shared/engines/session/int8-weights.ts';
import { ELEM, encodeModel, node, tensor, valueInfo } from '../fixtures/onnx-builder.ts';

/** Seeded weights in [-limit, limit]: within ±60 no u8s8 kernel saturates (255 x 60 x 2 < 32767), so the exact result holds on every CPU. */
function weights(count: number, seed: number, limit = 60): Int8Array {
  let state = seed;
  return Int8Array.from({ length: count }, () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return (state % (2 * limit + 1)) - limit;
  });
}

/**
 * A dynamically quantised two-layer model as quantize_dynamic writes it (u8s8): x is quantised,
 * multiplied by int8 weights (one with a zero point, one without) and scaled back.
 */
function signedModel(): Uint8Array {
  return encodeModel({
    inputs: [valueInfo('x', ELEM.float, ['batch', 8])],
    outputs: [valueInfo('y', ELEM.float, ['batch', 4])],
    nodes: [
      node('DynamicQuantizeLinear', ['x'], ['xq', 'xs', 'xz']),
      node('MatMulInteger', ['xq', 'w1', 'xz', 'w1_zero'], ['h_int']),
      node('Cast', ['h_int'], ['h_raw'], { to: ELEM.float }),
      node('Mul', ['xs', 'w1_scale'], ['h_scale']),
      node('Mul', ['h_raw', 'h_scale'], ['h']),
      node('DynamicQuantizeLinear', ['h'], ['hq', 'hs', 'hz']),
      node('MatMulInteger', ['hq', 'w2', 'hz'], ['y_int']),
      node('Cast', ['y_int'], ['y_raw'], { to: ELEM.float }),
      node('Mul', ['hs', 'w2_scale'], ['y_scale']),
      node('Mul', ['y_raw', 'y_scale'], ['y']),
    ],
    initializers: [
      tensor('w1', [8, 6], weights(48, 7)),
      tensor('w1_zero', [], Int8Array.of(3)),
      tensor('w1_scale', [], Float32Array.of(0.02)),
      tensor('w2', [6, 4], weights(24, 11)),
      tensor('w2_scale', [], Float32Array.of(0.03)),
    ],
  });
}

function floatModel(): Uint8Array {
  return encodeModel({
    inputs: [valueInfo('x', ELEM.float, ['batch', 8])],
    outputs: [valueInfo('y', ELEM.float, ['batch', 4])],
    nodes: [node('MatMul', ['x', 'w'], ['y'])],
    initializers: [tensor('w', [8, 4], new Float32Array(32).fill(0.5))],
  });
}

async function run(model: Uint8Array, x: Float32Array): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(model);
  try {
    const { y } = await session.run({ x: new ort.Tensor('float32', x, [x.length / 8, 8]) });
    return y.data as Float32Array;
  } finally {
    await session.release();
  }
}

const input = Float32Array.from({ length: 40 }, (_, index) => Math.sin(index * 1.7) * 3);

describe('int8 weights, signed and unsigned', () => {
  test('moving the weights to uint8 (+128, zero points too) keeps every output of the model', async () => {
    const signed = signedModel();
    const moved = shiftInt8Weights(signed, 'unsigned');
    assert.ok('model' in moved);
    // w1, its zero point, w2, and the zero point w2 gains (128: it had none, so 0).
    assert.equal(moved.tensors, 4);
    assert.equal(moved.nodes, 2);
    const [expected, actual] = await Promise.all([run(signed, input), run(moved.model, input)]);
    assert.deepEqual(Array.from(actual), Array.from(expected));
    // Nothing signed is left; the way back gives a u8s8 model with the same outputs.
    assert.equal((shiftInt8Weights(moved.model, 'unsigned') as { tensors: number }).tensors, 0);
    const back = shiftInt8Weights(moved.model, 'signed');
    assert.ok('model' in back && back.tensors === 4);
    assert.deepEqual(Array.from(await run(back.model, input)), Array.from(expected));
  });

  test('every other byte of the model is kept, and a model without int8 weights is left as it is', () => {
    const signed = signedModel();
    const moved = shiftInt8Weights(signed, 'unsigned') as { model: Uint8Array };
    const text = (bytes: Uint8Array) => Buffer.from(bytes).toString('latin1');
    for (const kept of ['serverless-vectorizer tests', 'DynamicQuantizeLinear', 'w1_scale', 'batch'])
      assert.ok(text(moved.model).includes(kept));
    const plain = floatModel();
    const outcome = shiftInt8Weights(plain, 'unsigned');
    assert.ok('model' in outcome && outcome.tensors === 0);
    assert.equal(outcome.model, plain);
  });

  test('x86 without VNNI saturates u8s8; VNNI, AMX and ARM do not', () => {
    assert.equal(u8s8Saturates('x64', new Set(['avx2', 'fma'])), true);
    assert.equal(u8s8Saturates('x64', new Set(['avx2', 'avx512f', 'avx512bw'])), true);
    assert.equal(u8s8Saturates('x64', new Set(['avx2', 'avx512_vnni'])), false);
    assert.equal(u8s8Saturates('x64', new Set(['avx2', 'avx_vnni'])), false);
    assert.equal(u8s8Saturates('arm64', new Set()), false);
    assert.equal(storedCopyPath('/m/onnx/model_quantized.onnx', 'unsigned'), '/m/onnx/model_quantized.u8u8.onnx');
    assert.equal(storedCopyPath('/m/onnx/model_quantized.onnx', 'signed'), '/m/onnx/model_quantized.u8s8.onnx');
  });

  test('auto: unsigned where u8s8 saturates, signed where VNNI runs it exactly, as exported elsewhere', () => {
    assert.equal(preferredStorage('auto', 'x64', new Set(['avx2'])), 'unsigned');
    assert.equal(preferredStorage('auto', 'x64', new Set(['avx2', 'avx512_vnni'])), 'signed');
    assert.equal(preferredStorage('auto', 'arm64', new Set()), undefined);
    assert.equal(preferredStorage('exported', 'x64', new Set(['avx2'])), undefined);
    assert.equal(preferredStorage('signed', 'x64', new Set(['avx2'])), 'signed');
  });
});

describe('which file a session loads (ORT_INT8_WEIGHTS)', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'int8-choice-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  const avx2 = new Set(['avx2']);
  const vnni = new Set(['avx2', 'avx512_vnni']);

  test('where u8s8 saturates, the unsigned copy is written once beside the model and loaded after', async () => {
    const model = join(dir, 'model_quantized.onnx');
    await writeFile(model, signedModel());
    assert.equal((await int8ModelFor(model, 'exported', 'x64', avx2)).path, model);
    // Signed already, and VNNI runs it exactly: loaded as it is (a marker says there is nothing to move).
    assert.equal((await int8ModelFor(model, 'auto', 'x64', vnni)).path, model);
    assert.ok(existsSync(nothingToMovePath(model, 'signed')));
    const chosen = await int8ModelFor(model, 'auto', 'x64', avx2);
    assert.equal(chosen.path, storedCopyPath(model, 'unsigned'));
    assert.match(chosen.note, /4 tensors moved/);
    const written = (await stat(chosen.path)).mtimeMs;
    const again = await int8ModelFor(model, 'unsigned', 'arm64', new Set());
    assert.equal(again.path, chosen.path);
    assert.equal((await stat(again.path)).mtimeMs, written, 'not written again');
    assert.deepEqual(Array.from(await run(await readFile(chosen.path), input)), Array.from(await run(signedModel(), input)));
    // And back: a VNNI host gets the signed storage of an unsigned model.
    const unsignedModel = join(dir, 'unsigned.onnx');
    await writeFile(unsignedModel, await readFile(chosen.path));
    const signedCopy = await int8ModelFor(unsignedModel, 'auto', 'x64', vnni);
    assert.equal(signedCopy.path, storedCopyPath(unsignedModel, 'signed'));
    assert.deepEqual(Array.from(await run(await readFile(signedCopy.path), input)), Array.from(await run(signedModel(), input)));
  });

  test('a file that is not a graph is left to the session, which says what is wrong with it', async () => {
    const model = join(dir, 'broken.onnx');
    await writeFile(model, 'not an ONNX graph');
    const chosen = await int8ModelFor(model, 'auto', 'x64', avx2);
    assert.equal(chosen.path, model);
    assert.match(chosen.note, /could not be read as an ONNX graph/);
    assert.equal(existsSync(nothingToMovePath(model, 'unsigned')), false);
  });

  test('a model with nothing to move is marked so that later cold starts do not read it again', async () => {
    const model = join(dir, 'model.onnx');
    await writeFile(model, floatModel());
    const chosen = await int8ModelFor(model, 'auto', 'x64', avx2);
    assert.equal(chosen.path, model);
    assert.match(chosen.note, /nothing to move/);
    assert.ok(existsSync(nothingToMovePath(model, 'unsigned')));
    assert.equal(existsSync(storedCopyPath(model, 'unsigned')), false);
    assert.match((await int8ModelFor(model, 'auto', 'x64', avx2)).note, /already unsigned or not int8/);
  });
});
