import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { planBatches } from '../../shared/engines/batching/plan.ts';
import { longestFirstLengths } from '../../shared/engines/tokenizer.ts';
import { parsePreprocessorConfig, preprocessedSize, preprocessImage } from '../../shared/math/image-preprocess.ts';
import { clsPool, meanPool, splitRows } from '../../shared/math/pooling.ts';
import { rankByScore } from '../../shared/math/ranking.ts';
import { resizeLikePillow } from '../../shared/math/resample.ts';
import { sparseLinearRow, spladeRow } from '../../shared/math/sparse.ts';
import { cosine, l2NormalizeInPlace, layerNormInPlace, shortenVector, sigmoid } from '../../shared/math/vector.ts';
import { encodeBase64Floats } from '../../shared/request/openai.ts';

describe('pooling', () => {
  // batch 2, seq 3, hidden 2; row 1 has one padding token whose values must be ignored
  const data = Float32Array.from([1, 2, 3, 4, 5, 6, 10, 20, 30, 40, 999, 999]);
  test('meanPool averages only the real tokens of each row', () => {
    const [a, b] = meanPool({ data, batch: 2, seq: 3, hidden: 2 }, [3, 2]);
    assert.deepEqual(Array.from(a), [3, 4]);
    assert.deepEqual(Array.from(b), [20, 30]);
  });
  test('clsPool takes the first token', () => {
    const [a, b] = clsPool({ data, batch: 2, seq: 3, hidden: 2 });
    assert.deepEqual(Array.from(a), [1, 2]);
    assert.deepEqual(Array.from(b), [10, 20]);
  });
  test('splitRows copies rows of a pooled output', () => {
    const rows = splitRows(Float32Array.from([1, 2, 3, 4]), 2, 2);
    assert.deepEqual(
      rows.map((row) => Array.from(row)),
      [
        [1, 2],
        [3, 4],
      ],
    );
  });
});

describe('vector helpers', () => {
  test('l2NormalizeInPlace gives unit length and leaves zero vectors alone', () => {
    assert.deepEqual(Array.from(l2NormalizeInPlace(Float32Array.from([3, 4]))), [0.6000000238418579, 0.800000011920929]);
    assert.deepEqual(Array.from(l2NormalizeInPlace(new Float32Array(3))), [0, 0, 0]);
  });
  test('cosine', () => {
    assert.equal(cosine([1, 0], [0, 1]), 0);
    assert.ok(Math.abs(cosine([1, 2], [2, 4]) - 1) < 1e-12);
    assert.throws(() => cosine([1], [1, 2]), RangeError);
  });
  test('sigmoid is symmetric and stable', () => {
    assert.equal(sigmoid(0), 0.5);
    assert.ok(Math.abs(sigmoid(2) + sigmoid(-2) - 1) < 1e-15);
    assert.equal(sigmoid(-1000), 0);
    assert.equal(sigmoid(1000), 1);
  });
});

describe('spladeRow', () => {
  test('max over real tokens of log(1 + relu(logit)), indices ascending', () => {
    // seq 3 (last is padding), vocab 4
    const logits = Float32Array.from([
      -1,
      2,
      0.5,
      -3, // token 0
      1,
      -2,
      0.25,
      0, // token 1
      50,
      50,
      50,
      50, // padding: must be ignored
    ]);
    const vector = spladeRow(logits, { seq: 3, vocab: 4 }, 0, 2);
    assert.deepEqual(vector.indices, [0, 1, 2]);
    assert.deepEqual(vector.values, [Math.log1p(1), Math.log1p(2), Math.log1p(0.5)]);
  });
  test('reads the right row of a batch', () => {
    const logits = Float32Array.from([1, 0, 0, 2]);
    assert.deepEqual(spladeRow(logits, { seq: 1, vocab: 2 }, 1, 1).indices, [1]);
  });
});

describe('rankByScore', () => {
  test('sorts descending, keeps ties in input order, applies topK', () => {
    assert.deepEqual(rankByScore([0.1, 0.9, 0.5, 0.9]), [
      { index: 1, score: 0.9 },
      { index: 3, score: 0.9 },
      { index: 2, score: 0.5 },
      { index: 0, score: 0.1 },
    ]);
    assert.deepEqual(
      rankByScore([0.1, 0.9, 0.5], 2).map((r) => r.index),
      [1, 2],
    );
  });
});

describe('planBatches', () => {
  test('every index exactly once, longest first, within both limits', () => {
    const lengths = Array.from({ length: 300 }, (_, i) => ((i * 7919) % 500) + 1);
    const limits = { maxTokens: 4096, maxItems: 32 };
    const batches = planBatches(lengths, limits);
    assert.deepEqual(
      batches.flat().sort((a, b) => a - b),
      lengths.map((_, i) => i),
    );
    for (const batch of batches) {
      const longest = Math.max(...batch.map((i) => lengths[i]));
      assert.ok(batch.length <= limits.maxItems);
      assert.ok(batch.length === 1 || batch.length * longest <= limits.maxTokens, `batch of ${batch.length} x ${longest}`);
    }
    assert.equal(lengths[batches[0][0]], Math.max(...lengths));
  });
  test('does not pad many short inputs up to one long one', () => {
    const lengths = [219, 9, 11, 9, 13, 17];
    const batches = planBatches(lengths, { maxTokens: 8192, maxItems: 64 });
    assert.deepEqual(batches[0], [0]);
    const padded = batches.slice(1).reduce((sum, batch) => sum + batch.length * Math.max(...batch.map((i) => lengths[i])), 0);
    assert.ok(padded <= 5 * 17, `short inputs padded to ${padded} tokens`);
  });
  test('an input longer than the budget still gets its own batch', () => {
    assert.deepEqual(planBatches([10_000, 5], { maxTokens: 100, maxItems: 8 }), [[0], [1]]);
  });
  test('empty input gives no batches', () => {
    assert.deepEqual(planBatches([], { maxTokens: 100, maxItems: 8 }), []);
  });
});

describe('longestFirstLengths (Hugging Face longest_first truncation)', () => {
  test('fits unchanged', () => assert.deepEqual(longestFirstLengths(3, 4, 10), [3, 4]));
  test('short side keeps its length, long side gets the rest', () => assert.deepEqual(longestFirstLengths(5, 100, 20), [5, 15]));
  test('works when the first side is longer', () => assert.deepEqual(longestFirstLengths(100, 5, 20), [15, 5]));
  test('both long: split evenly, the odd token to the second sequence', () =>
    assert.deepEqual(longestFirstLengths(300, 400, 509), [254, 255]));
});

describe('Pillow-exact resampling with a crop box', () => {
  const random = (seed: number) => () => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648;
  };
  const image = (width: number, height: number, seed: number) => {
    const next = random(seed);
    return { data: Uint8Array.from({ length: width * height * 3 }, () => Math.floor(next() * 256)), width, height, channels: 3 };
  };
  const crop = (
    full: { data: Uint8Array | Uint8ClampedArray; width: number },
    box: { left: number; top: number; width: number; height: number },
  ) => {
    const out: number[] = [];
    for (let y = box.top; y < box.top + box.height; y++)
      for (let x = box.left; x < box.left + box.width; x++) for (let c = 0; c < 3; c++) out.push(full.data[(y * full.width + x) * 3 + c]);
    return out;
  };

  for (const [width, height, outWidth, outHeight, resample] of [
    [640, 480, 298, 224, 3],
    [300, 500, 224, 373, 3],
    [97, 61, 150, 99, 3],
    [224, 300, 224, 250, 2],
    [50, 50, 50, 20, 3],
  ] as const) {
    test(`${width}x${height} -> ${outWidth}x${outHeight} (filter ${resample}): the box equals the same part of the full resize`, () => {
      const source = image(width, height, width * height);
      const full = resizeLikePillow(source, outWidth, outHeight, resample);
      assert.equal(full.width, outWidth);
      assert.equal(full.height, outHeight);
      const box = { left: Math.floor((outWidth - 40) / 2), top: Math.floor((outHeight - 17) / 2), width: 40, height: 17 };
      const part = resizeLikePillow(source, outWidth, outHeight, resample, box);
      assert.equal(part.width, 40);
      assert.equal(part.height, 17);
      assert.deepEqual(Array.from(part.data), crop(full, box));
    });
  }

  test('a resize to the same size is a copy', () => {
    const source = image(7, 5, 3);
    assert.deepEqual(Array.from(resizeLikePillow(source, 7, 5).data), Array.from(source.data));
  });

  test('preprocessImage: centre crop inside the resized image gives the resized centre, normalised', () => {
    const config = parsePreprocessorConfig({
      size: { shortest_edge: 20 },
      do_center_crop: true,
      crop_size: 16,
      image_mean: [0.5, 0.5, 0.5],
      image_std: [0.5, 0.5, 0.5],
    });
    const source = image(45, 30, 11);
    const full = resizeLikePillow(source, 30, 20, 3);
    const expected = crop(full, { left: 7, top: 2, width: 16, height: 16 });
    const { pixels, width, height } = preprocessImage(source, config);
    assert.deepEqual([width, height], [16, 16]);
    for (let i = 0; i < 16 * 16; i++)
      for (let c = 0; c < 3; c++) assert.equal(pixels[c * 256 + i], Math.fround((expected[i * 3 + c] / 255 - 0.5) / 0.5));
  });
});

describe("BGE-M3's sparse head", () => {
  // batch 1, seq 4, hidden 2: tokens 9, 5, 9, 3; weight [1, 0.5], bias -1
  const hidden = Float32Array.from([4, 0, 2, 2, 1, 0, 9, 9]);
  const head = { weight: Float32Array.from([1, 0.5]), bias: -1 };
  test('ReLU(h·w + b) per token, the largest per id, special ids skipped, zeros dropped, ids ascending', () => {
    // token 9 at t=0: 4 - 1 = 3; token 5: 2 + 1 - 1 = 2; token 9 at t=2: 1 - 1 = 0; token 3 skipped
    assert.deepEqual(sparseLinearRow(hidden, 4, 0, [9, 5, 9, 3], head, new Set([3])), { indices: [5, 9], values: [2, 3] });
    // a weight that ReLU zeroes is left out
    assert.deepEqual(sparseLinearRow(hidden, 4, 0, [7, 7, 7, 7], { ...head, bias: -100 }, new Set()), { indices: [], values: [] });
  });
});

describe('ConvNeXt preprocessing (ResNet exports)', () => {
  test('below 384: shortest edge to size/crop_pct (aspect kept), then the centre size x size', () => {
    const config = parsePreprocessorConfig({ feature_extractor_type: 'ConvNextFeatureExtractor', size: 224, crop_pct: 0.875 });
    assert.deepEqual(config.size, { shortestEdge: 256 });
    assert.equal(config.doCenterCrop, true);
    assert.deepEqual(config.cropSize, { height: 224, width: 224 });
    assert.deepEqual(preprocessedSize(config), { height: 224, width: 224 });
    assert.deepEqual(Array.from(config.mean), [0.485, 0.456, 0.406], 'ImageNet statistics by default');
    const image = { data: new Uint8Array(400 * 300 * 3).fill(128), width: 400, height: 300, channels: 3 };
    const { height, width } = preprocessImage(image, config);
    assert.deepEqual([height, width], [224, 224]);
  });
  test('from 384 up: resized to size x size, no crop; CLIP without a crop follows the image', () => {
    const large = parsePreprocessorConfig({ image_processor_type: 'ConvNextImageProcessor', size: { shortest_edge: 384 } });
    assert.deepEqual(large.size, { height: 384, width: 384 });
    assert.equal(large.doCenterCrop, false);
    assert.deepEqual(preprocessedSize(large), { height: 384, width: 384 });
    assert.equal(preprocessedSize(parsePreprocessorConfig({ size: { shortest_edge: 224 }, do_center_crop: false })), undefined);
  });
});

describe('Matryoshka vectors', () => {
  test('layer norm: zero mean, unit variance (eps aside), like F.layer_norm without weights', () => {
    const vector = layerNormInPlace(Float32Array.of(1, 2, 3, 4));
    const mean = vector.reduce((sum, value) => sum + value, 0) / 4;
    const variance = vector.reduce((sum, value) => sum + (value - mean) ** 2, 0) / 4;
    assert.ok(Math.abs(mean) < 1e-6);
    assert.ok(Math.abs(variance - 1.25 / (1.25 + 1e-5)) < 1e-5);
  });

  test('shortenVector: truncate and renormalise; with layer norm the whole-vector mean is taken off first', () => {
    assert.deepEqual(Array.from(shortenVector(Float32Array.of(3, 4, 12), 2, { layerNorm: false, normalize: true })), [
      Math.fround(0.6),
      Math.fround(0.8),
    ]);
    assert.deepEqual(Array.from(shortenVector(Float32Array.of(3, 4, 12), 2, { layerNorm: false, normalize: false })), [3, 4]);
    // mean of (1, 2, 6) is 3: (-2, -1) normalised.
    const centred = shortenVector(Float32Array.of(1, 2, 6), 2, { layerNorm: true, normalize: true });
    assert.ok(Math.abs(centred[0] + 2 / Math.sqrt(5)) < 1e-6 && Math.abs(centred[1] + 1 / Math.sqrt(5)) < 1e-6);
    // The input is left as it was.
    const input = Float32Array.of(1, 2, 6);
    shortenVector(input, 2, { layerNorm: true, normalize: true });
    assert.deepEqual(Array.from(input), [1, 2, 6]);
  });

  test('base64 floats: little-endian float32 bytes, as OpenAI clients decode them', () => {
    const values = [0.5, -1.25, Math.fround(0.1)];
    const bytes = Buffer.from(encodeBase64Floats(values), 'base64');
    assert.deepEqual(Array.from(new Float32Array(bytes.buffer, bytes.byteOffset, 3)), values);
    assert.equal(bytes.readFloatLE(4), -1.25);
  });
});
