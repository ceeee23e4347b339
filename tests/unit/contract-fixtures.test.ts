import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { crc32 } from 'node:zlib';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import {
  BGE_M3_SPARSE_BIAS,
  BGE_M3_SPARSE_FILE,
  BGE_M3_SPECIAL_TOKENS,
  buildContractModel,
  CLIP3D_HIDDEN,
  CLIP3D_SIZE,
  CLIP3D_TOKENS,
  CONTRACT_FAMILIES,
  CONTRACT_HIDDEN,
  CONTRACT_MODELS,
  type ContractFamily,
  contractSpec,
  contractWeights,
  RESNET_CHANNELS,
  RESNET_SIZE,
  referenceBgeM3Sentence,
  referenceBgeM3Sparse,
  referenceClipTokens,
  referenceContractHidden,
  referencePooler,
  referenceRerankLogit,
  referenceResnet,
} from '../fixtures/contract-models.ts';
import { TINY_VOCAB } from '../fixtures/tiny-models.ts';

const H = CONTRACT_HIDDEN;
const id = (token: string) => TINY_VOCAB.indexOf(token);
// Two rows of different lengths, padded to the longer one.
const ROWS = [
  ['[CLS]', 'the', 'quick', 'brown', 'fox', '[SEP]'],
  ['[CLS]', 'cat', '[SEP]', '[PAD]', '[PAD]', '[PAD]'],
].map((row) => row.map(id));
const MASK = [
  [1, 1, 1, 1, 1, 1],
  [1, 1, 1, 0, 0, 0],
];
const SEQ = ROWS[0].length;

const int64 = (rows: number[][]) => new Tensor('int64', BigInt64Array.from(rows.flat().map(BigInt)), [rows.length, rows[0].length]);

function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, message: string, tolerance = 1e-5): void {
  assert.equal(actual.length, expected.length, `${message}: length`);
  for (let i = 0; i < expected.length; i++) {
    assert.ok(Math.abs(actual[i] - expected[i]) <= tolerance, `${message}[${i}]: ${actual[i]} vs ${expected[i]}`);
  }
}

/** A deterministic, non-uniform image in CHW order. */
function image(size: number, seed: number): Float32Array {
  return Float32Array.from({ length: 3 * size * size }, (_, i) => Math.sin(i * 0.37 + seed) + (i % 7) * 0.1 - 0.3);
}

function images(size: number, count: number): { data: Float32Array[]; tensor: Tensor } {
  const data = Array.from({ length: count }, (_, n) => image(size, n + 1));
  const flat = new Float32Array(count * data[0].length);
  data.forEach((one, n) => {
    flat.set(one, n * one.length);
  });
  return { data, tensor: new Tensor('float32', flat, [count, 3, size, size]) };
}

async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => relative(dir, join(entry.parentPath, entry.name)))
    .sort();
}

/** The entries of a zip archive, read independently of the fixture's writer (central directory, then each local header). */
function readZip(bytes: Buffer): { name: string; method: number; crc: number; size: number; dataOffset: number; data: Buffer }[] {
  let end = bytes.length - 22;
  while (end >= 0 && bytes.readUInt32LE(end) !== 0x06054b50) end--;
  assert.ok(end >= 0, 'end of central directory record');
  assert.equal(end + 22 + bytes.readUInt16LE(end + 20), bytes.length, 'EOCD ends the file');
  const count = bytes.readUInt16LE(end + 10);
  assert.equal(bytes.readUInt16LE(end + 8), count, 'entries on this disk');
  const directoryStart = bytes.readUInt32LE(end + 16);
  assert.equal(directoryStart + bytes.readUInt32LE(end + 12), end, 'central directory size');
  const entries = [];
  let offset = directoryStart;
  for (let index = 0; index < count; index++) {
    assert.equal(bytes.readUInt32LE(offset), 0x02014b50, `central entry ${index}`);
    const nameLength = bytes.readUInt16LE(offset + 28);
    const name = bytes.toString('utf8', offset + 46, offset + 46 + nameLength);
    const method = bytes.readUInt16LE(offset + 10);
    const crc = bytes.readUInt32LE(offset + 16);
    const size = bytes.readUInt32LE(offset + 24);
    assert.equal(bytes.readUInt32LE(offset + 20), size, `${name}: stored, compressed size = size`);
    const local = bytes.readUInt32LE(offset + 42);
    assert.equal(bytes.readUInt32LE(local), 0x04034b50, `${name}: local header`);
    assert.equal(bytes.readUInt16LE(local + 8), method, `${name}: local method`);
    assert.equal(bytes.readUInt32LE(local + 14), crc, `${name}: local crc`);
    assert.equal(bytes.readUInt32LE(local + 22), size, `${name}: local size`);
    assert.equal(bytes.toString('utf8', local + 30, local + 30 + bytes.readUInt16LE(local + 26)), name, `${name}: local name`);
    const dataOffset = local + 30 + bytes.readUInt16LE(local + 26) + bytes.readUInt16LE(local + 28);
    entries.push({ name, method, crc, size, dataOffset, data: bytes.subarray(dataOffset, dataOffset + size) });
    offset += 46 + nameLength + bytes.readUInt16LE(offset + 30) + bytes.readUInt16LE(offset + 32);
  }
  assert.equal(offset, end, 'central directory fully read');
  return entries;
}

const floats = (data: Buffer) => Float32Array.from({ length: data.length / 4 }, (_, i) => data.readFloatLE(i * 4));

/** Row r of a [batch, ...rest] float output, as a Float32Array. */
const row = (t: Tensor, r: number) => {
  const size = t.dims.slice(1).reduce((a, b) => a * b, 1);
  return (t.data as Float32Array).subarray(r * size, (r + 1) * size);
};

describe('contract model fixtures', () => {
  let root: string;
  const sessions: InferenceSession[] = [];
  const built = new Map<ContractFamily, string>();

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'vectorizer-contract-'));
    for (const family of CONTRACT_FAMILIES) {
      const dir = join(root, family);
      await buildContractModel(family, dir);
      built.set(family, dir);
    }
  });
  after(async () => {
    await Promise.all(sessions.map((session) => session.release()));
    await rm(root, { recursive: true, force: true });
  });

  async function open(family: ContractFamily): Promise<InferenceSession> {
    const session = await InferenceSession.create(join(built.get(family)!, CONTRACT_MODELS[family].modelFile));
    sessions.push(session);
    return session;
  }

  for (const family of CONTRACT_FAMILIES) {
    test(`${family}: writes exactly its files, small, with the external data it references`, async () => {
      const dir = built.get(family)!;
      const contract = CONTRACT_MODELS[family];
      assert.deepEqual(await listFiles(dir), [...contract.files]);
      for (const file of contract.files) assert.ok((await stat(join(dir, file))).size < 8192, `${file} is tiny`);
      const model = await readFile(join(dir, contract.modelFile));
      for (const file of contract.externalDataFiles) {
        assert.ok((await stat(join(dir, file))).size > 0, `${file} holds data`);
        const location = relative(join(dir, contract.modelFile, '..'), join(dir, file));
        assert.ok(model.includes(Buffer.from(location)), `${contract.modelFile} references ${location}`);
      }
      for (const file of contract.externalDataFiles) {
        // The weights are really outside the ONNX file: without the data file the model does not load.
        const copy = await mkdtemp(join(root, `${family}-without-`));
        await buildContractModel(family, copy);
        await rm(join(copy, file));
        await assert.rejects(InferenceSession.create(join(copy, contract.modelFile)), Error, `${family} needs ${file}`);
      }
      if (contract.architectures) {
        const config = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8'));
        assert.deepEqual(config.architectures, contract.architectures);
      } else assert.equal(existsSync(join(dir, 'config.json')), false, 'no config.json');
    });

    test(`${family}: ONNX Runtime sees the contract's inputs and outputs`, async () => {
      const session = await open(family);
      const contract = CONTRACT_MODELS[family];
      assert.deepEqual(
        session.inputNames,
        contract.inputs.map((t) => t.name),
      );
      assert.deepEqual(
        session.outputNames,
        contract.outputs.map((t) => t.name),
      );
      const metadata = (list: readonly InferenceSession.ValueMetadata[]) =>
        list.map((value) => (value.isTensor ? { name: value.name, type: value.type, dims: [...value.shape] } : { name: value.name }));
      const expected = (list: typeof contract.inputs) =>
        list.map((t) => ({ name: t.name, type: t.type === 'float' ? 'float32' : 'int64', dims: [...t.dims] }));
      assert.deepEqual(metadata(session.inputMetadata), expected(contract.inputs));
      assert.deepEqual(metadata(session.outputMetadata), expected(contract.outputs));
    });
  }

  test('text without token_type_ids: last_hidden_state per token, padding rows not zero', async () => {
    const session = await open('no-token-type');
    const { last_hidden_state: hidden } = await session.run({ input_ids: int64(ROWS), attention_mask: int64(MASK) });
    assert.deepEqual(hidden.dims, [2, SEQ, H]);
    ROWS.forEach((ids, r) => {
      assertClose(
        row(hidden, r),
        referenceContractHidden(ids).flatMap((v) => [...v]),
        `row ${r}`,
      );
    });
    const padding = row(hidden, 1).subarray(3 * H, 4 * H);
    assert.ok(
      padding.some((v) => v !== 0),
      'padding rows carry values',
    );
    assert.notDeepEqual(row(hidden, 0).subarray(0, H), row(hidden, 0).subarray(H, 2 * H), 'tokens differ');
  });

  test('bge-m3: sentence_embedding is the CLS row of token_embeddings; weights from two external files', async () => {
    const session = await open('bge-m3');
    const out = await session.run({ input_ids: int64(ROWS), attention_mask: int64(MASK) });
    assert.deepEqual(out.sentence_embedding.dims, [2, H]);
    assert.deepEqual(out.token_embeddings.dims, [2, SEQ, H]);
    ROWS.forEach((ids, r) => {
      assertClose(row(out.sentence_embedding, r), referenceBgeM3Sentence(ids), `sentence ${r}`);
      assertClose(
        row(out.token_embeddings, r),
        referenceContractHidden(ids).flatMap((v) => [...v]),
        `tokens ${r}`,
      );
      assertClose(row(out.sentence_embedding, r), row(out.token_embeddings, r).subarray(0, H), `CLS ${r}`, 0);
    });
  });

  test('reranker with model.onnx.data: one logit per pair, masked tokens ignored', async () => {
    const session = await open('reranker-external');
    const { logits } = await session.run({ input_ids: int64(ROWS), attention_mask: int64(MASK) });
    assert.deepEqual(logits.dims, [2, 1]);
    assertClose(
      logits.data as Float32Array,
      ROWS.map((ids, r) => referenceRerankLogit(ids, MASK[r])),
      'logits',
    );
    assert.notEqual(logits.data[0], logits.data[1]);
  });

  test('resnet: fixed 16 x 16 input, output [batch, C, 1, 1]; another size is refused', async () => {
    const session = await open('resnet');
    const batch = images(RESNET_SIZE, 2);
    const { output } = await session.run({ input: batch.tensor });
    assert.deepEqual(output.dims, [2, RESNET_CHANNELS, 1, 1]);
    batch.data.forEach((pixels, n) => {
      assertClose(row(output, n), referenceResnet(pixels), `image ${n}`);
    });
    await assert.rejects(session.run({ input: images(8, 2).tensor }), /dimension|shape/i);
  });

  test('clip-vision-3d: last_hidden_state [batch, 4, 8], tokens differ', async () => {
    const session = await open('clip-vision-3d');
    const batch = images(CLIP3D_SIZE, 2);
    const { last_hidden_state: hidden } = await session.run({ pixel_values: batch.tensor });
    assert.deepEqual(hidden.dims, [2, CLIP3D_TOKENS, CLIP3D_HIDDEN]);
    batch.data.forEach((pixels, n) => {
      assertClose(
        row(hidden, n),
        referenceClipTokens(pixels).flatMap((v) => [...v]),
        `image ${n}`,
      );
    });
    const tokens = row(hidden, 0);
    assert.notDeepEqual(tokens.subarray(0, CLIP3D_HIDDEN), tokens.subarray(CLIP3D_HIDDEN, 2 * CLIP3D_HIDDEN), 'tokens differ');
  });

  test('multi-output-text: pooler_output first, last_hidden_state second, both recomputable', async () => {
    const session = await open('multi-output-text');
    const types = ROWS.map((ids) => ids.map((_, t) => (t >= 3 ? 1 : 0)));
    const out = await session.run({ input_ids: int64(ROWS), attention_mask: int64(MASK), token_type_ids: int64(types) });
    assert.deepEqual(out.pooler_output.dims, [2, H]);
    assert.deepEqual(out.last_hidden_state.dims, [2, SEQ, H]);
    ROWS.forEach((ids, r) => {
      assertClose(
        row(out.last_hidden_state, r),
        referenceContractHidden(ids, types[r]).flatMap((v) => [...v]),
        `hidden ${r}`,
      );
      assertClose(row(out.pooler_output, r), referencePooler(ids, types[r]), `pooler ${r}`);
    });
  });

  test('bge-m3: sparse_linear.pt is a stored PyTorch zip of Linear(H, 1); the sparse reference skips special tokens', async () => {
    const dir = built.get('bge-m3')!;
    const w = contractWeights();
    const entries = readZip(await readFile(join(dir, BGE_M3_SPARSE_FILE)));
    assert.deepEqual(
      entries.map((entry) => entry.name),
      ['sparse_linear/data.pkl', 'sparse_linear/byteorder', 'sparse_linear/data/0', 'sparse_linear/data/1', 'sparse_linear/version'],
    );
    for (const entry of entries) {
      assert.equal(entry.method, 0, `${entry.name} stored`);
      assert.equal(entry.crc, crc32(entry.data), `${entry.name} crc`);
    }
    const byName = new Map(entries.map((entry) => [entry.name.slice('sparse_linear/'.length), entry]));
    assert.equal(byName.get('byteorder')!.data.toString(), 'little');
    assert.equal(byName.get('version')!.data.toString().trim(), '3');
    assert.equal(byName.get('data/0')!.size, H * 4);
    assert.equal(byName.get('data/1')!.size, 4);
    assert.equal(byName.get('data/0')!.dataOffset % 64, 0, 'tensor data 64-byte aligned, as PyTorch writes it');
    assert.deepEqual(floats(byName.get('data/0')!.data), w.sparseWeight);
    assert.deepEqual([...floats(byName.get('data/1')!.data)], [Math.fround(BGE_M3_SPARSE_BIAS)]);
    assert.ok(w.sparseBias < 0, 'bias slightly negative');

    const config = JSON.parse(await readFile(join(dir, 'tokenizer_config.json'), 'utf8'));
    assert.deepEqual([config.cls_token, config.eos_token, config.pad_token, config.unk_token], ['[CLS]', '[SEP]', '[PAD]', '[UNK]']);

    const special = new Set(BGE_M3_SPECIAL_TOKENS.map(id));
    const sparse = referenceBgeM3Sparse(ROWS[0]);
    assert.ok(sparse.indices.length >= 1, 'at least one token weighted');
    assert.ok(
      sparse.indices.every((index) => !special.has(index)),
      'no special token',
    );
    assert.ok(
      sparse.indices.every((index, i) => i === 0 || sparse.indices[i - 1] < index),
      'indices ascending',
    );
    assert.ok(
      sparse.values.every((value) => value > 0),
      'zeros dropped',
    );
    const words = ROWS[0].filter((token) => !special.has(token));
    assert.ok(sparse.indices.length < words.length, 'some word gets a zero weight (ReLU)');

    // The reference = ReLU(token_embeddings · weight + bias) from ONNX Runtime's output and the file's head.
    const session = await open('bge-m3');
    const { token_embeddings: tokens } = await session.run({ input_ids: int64(ROWS), attention_mask: int64(MASK) });
    const best = new Map<number, number>();
    ROWS[0].forEach((token, t) => {
      if (special.has(token)) return;
      const hidden = row(tokens, 0).subarray(t * H, (t + 1) * H);
      const score = hidden.reduce((sum, v, h) => sum + v * w.sparseWeight[h], BGE_M3_SPARSE_BIAS);
      if (score > (best.get(token) ?? 0)) best.set(token, score);
    });
    assert.deepEqual(
      sparse.indices,
      [...best.keys()].sort((a, b) => a - b),
    );
    assertClose(
      sparse.values,
      sparse.indices.map((index) => best.get(index)!),
      'sparse values',
    );
  });

  test('sizes are choosable: bge-m3 at hidden 1024, resnet at 2048 channels; every family under 1 MB at 1024', async () => {
    const options = { hidden: 1024, channels: 2048 };
    const dirs = new Map<ContractFamily, string>();
    for (const family of CONTRACT_FAMILIES) {
      const dir = join(root, `${family}-large`);
      await buildContractModel(family, dir, options);
      dirs.set(family, dir);
      const files = await listFiles(dir);
      assert.deepEqual(files, [...contractSpec(family, options).files]);
      let total = 0;
      for (const file of files) total += (await stat(join(dir, file))).size;
      assert.ok(total < 1024 * 1024, `${family} at hidden 1024: ${total} bytes`);
    }
    assert.deepEqual(
      contractSpec('bge-m3', options).outputs.map((t) => t.dims.at(-1)),
      [1024, 1024],
    );
    assert.deepEqual(contractSpec('resnet', options).outputs[0].dims, ['batch_size', 2048, 1, 1]);

    const bge = await InferenceSession.create(join(dirs.get('bge-m3')!, CONTRACT_MODELS['bge-m3'].modelFile));
    sessions.push(bge);
    const dims = (session: InferenceSession) => session.outputMetadata.map((value) => (value.isTensor ? [...value.shape] : []));
    assert.deepEqual(dims(bge), [
      ['batch_size', 1024],
      ['batch_size', 'sequence_length', 1024],
    ]);
    const out = await bge.run({ input_ids: int64(ROWS), attention_mask: int64(MASK) });
    assert.deepEqual(out.sentence_embedding.dims, [2, 1024]);
    assert.deepEqual(out.token_embeddings.dims, [2, SEQ, 1024]);
    ROWS.forEach((ids, r) => {
      assertClose(row(out.sentence_embedding, r), referenceBgeM3Sentence(ids, options), `sentence ${r}`);
      assertClose(
        row(out.token_embeddings, r),
        referenceContractHidden(ids, undefined, options).flatMap((v) => [...v]),
        `tokens ${r}`,
      );
    });
    const head = readZip(await readFile(join(dirs.get('bge-m3')!, BGE_M3_SPARSE_FILE)));
    assert.equal(head.find((entry) => entry.name === 'sparse_linear/data/0')!.size, 1024 * 4);
    assert.deepEqual(floats(head.find((entry) => entry.name === 'sparse_linear/data/0')!.data), contractWeights(options).sparseWeight);
    const config = JSON.parse(await readFile(join(dirs.get('bge-m3')!, 'config.json'), 'utf8'));
    assert.equal(config.hidden_size, 1024);

    const resnet = await InferenceSession.create(join(dirs.get('resnet')!, CONTRACT_MODELS.resnet.modelFile));
    sessions.push(resnet);
    assert.deepEqual(dims(resnet), [['batch_size', 2048, 1, 1]]);
    const batch = images(RESNET_SIZE, 2);
    const { output } = await resnet.run({ input: batch.tensor });
    assert.deepEqual(output.dims, [2, 2048, 1, 1]);
    batch.data.forEach((pixels, n) => {
      assertClose(row(output, n), referenceResnet(pixels, options), `image ${n}`);
    });
  });
});
