/** The invoke path for an image model: every image format and input form, S3 on the emulator. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import sharp, { type Sharp } from 'sharp';
import type { Services } from '../../shared/services.ts';
import { type Emulator, startEmulator } from '../helpers/emulator.ts';
import { invoke, invokeDense, servicesFor } from '../helpers/services.ts';
import { rejectsWithCode, tinyModel } from '../helpers/tiny.ts';

/** A 32x24 image: left half one colour, right half another. */
function picture(left: [number, number, number], right: [number, number, number]) {
  const width = 32;
  const height = 24;
  const pixels = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) pixels.set(x < width / 2 ? left : right, (y * width + x) * 3);
  }
  return sharp(pixels, { raw: { width, height, channels: 3 } });
}

const FORMATS = {
  png: (image: Sharp) => image.png(),
  jpeg: (image: Sharp) => image.jpeg({ quality: 95 }),
  webp: (image: Sharp) => image.webp({ lossless: true }),
  gif: (image: Sharp) => image.gif(),
  tiff: (image: Sharp) => image.tiff(),
  avif: (image: Sharp) => image.avif({ lossless: true }),
} as const;

const cosine = (a: number[], b: number[]) => a.reduce((sum, x, i) => sum + x * b[i], 0);

describe('invoke: image model', () => {
  let emulator: Emulator;
  let model: Awaited<ReturnType<typeof tinyModel>>;
  let runtime: Services;
  let bucket: string;
  let png: Buffer;

  before(async () => {
    emulator = await startEmulator();
    bucket = await emulator.bucket('images');
    model = await tinyModel('image');
    runtime = await servicesFor({ MODEL_ID: 'tiny/clip-vision', MODEL_DIR: model.dir, MAX_BATCH_IMAGES: '2' }, { s3: emulator.s3 });
    png = await picture([200, 30, 30], [30, 30, 200]).png().toBuffer();
  });
  after(async () => {
    await runtime?.dispose();
    await emulator?.stop();
    await model?.cleanup();
  });

  test('the model type comes from config.json (CLIPVision*) for an id outside the catalog', () => {
    assert.equal(runtime.model.type, 'image');
    assert.equal(runtime.model.fromCatalog, false);
  });

  test('PNG, JPEG, WebP, GIF, TIFF and AVIF all decode and embed alike', async () => {
    const images = await Promise.all(
      Object.values(FORMATS).map(async (encode) => ({
        base64: (await encode(picture([200, 30, 30], [30, 30, 200])).toBuffer()).toString('base64'),
      })),
    );
    const response = await invokeDense(runtime, { images });
    assert.equal(response.model_type, 'image');
    assert.equal(response.count, images.length);
    for (const [index, vector] of response.embeddings.entries()) {
      assert.equal(vector.length, response.dimension);
      assert.ok(cosine(vector, response.embeddings[0]) > 0.99, `${Object.keys(FORMATS)[index]} differs from PNG`);
    }
  });

  test('different pictures give different vectors; order survives batching (MAX_BATCH_IMAGES=2)', async () => {
    const red = (await picture([220, 20, 20], [220, 20, 20]).png().toBuffer()).toString('base64');
    const blue = (await picture([20, 20, 220], [20, 20, 220]).png().toBuffer()).toString('base64');
    const response = await invokeDense(runtime, { images: [{ base64: red }, { base64: blue }, { base64: red }] });
    assert.ok(cosine(response.embeddings[0], response.embeddings[2]) > 0.9999);
    assert.ok(cosine(response.embeddings[0], response.embeddings[1]) < 0.99);
  });

  test('base64 with a data: prefix, images[].s3_path and s3_images give the same vectors', async () => {
    await emulator.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'pics/a.png', Body: png }));
    const plain = await invokeDense(runtime, { images: [{ base64: png.toString('base64') }] });
    const dataUrl = await invokeDense(runtime, { images: [{ base64: `data:image/png;base64,${png.toString('base64')}` }] });
    const viaPath = await invokeDense(runtime, { images: [{ s3_path: `${bucket}/pics/a.png` }] });
    const viaList = await invokeDense(runtime, {
      s3_images: [`s3://${bucket}/pics/a.png`],
      save_to_s3: { bucket, key: 'out/images.json' },
    });
    assert.deepEqual(dataUrl.embeddings, plain.embeddings);
    assert.deepEqual(viaPath.embeddings, plain.embeddings);
    assert.deepEqual(viaList.embeddings, plain.embeddings);
    assert.equal(viaList.s3_location, `s3://${bucket}/out/images.json`);
  });

  test('undecodable images, bad base64, missing objects and texts are clear 4xx errors', async () => {
    const broken = await rejectsWithCode(
      invoke(runtime, { images: [{ base64: png.toString('base64') }, { base64: Buffer.from('not an image').toString('base64') }] }),
      'INVALID_INPUT_DATA',
    );
    assert.match(broken.message, /Image 1 could not be decoded/);
    await rejectsWithCode(invoke(runtime, { images: [{ base64: '%%%' }] }), 'INVALID_INPUT_DATA');
    await rejectsWithCode(invoke(runtime, { s3_images: [`${bucket}/pics/missing.png`] }), 'S3_OBJECT_NOT_FOUND');
    const texts = await rejectsWithCode(invoke(runtime, { messages: ['a cat'] }), 'UNSUPPORTED_FOR_MODEL');
    assert.match(texts.message, /image model .* does not take messages/);
    await rejectsWithCode(invoke(runtime, { images: [{ url: 'http://x' }] }), 'INVALID_REQUEST');
  });

  test('a tiny, very wide image (1 x 400,000) is refused quickly and clearly, without gigabytes of work', async () => {
    const strip = await sharp({ create: { width: 400_000, height: 1, channels: 3, background: { r: 9, g: 9, b: 9 } } })
      .png()
      .toBuffer();
    const before = process.memoryUsage().rss;
    const started = performance.now();
    const error = await rejectsWithCode(invoke(runtime, { images: [{ base64: strip.toString('base64') }] }), 'INVALID_INPUT_DATA');
    assert.match(error.message, /Image 0 is 400000 x 1 pixels \(aspect ratio 400000:1\).*100 times/);
    assert.ok(process.memoryUsage().rss - before < 500 * 1024 * 1024, 'no gigabytes for a 1 KB file');
    assert.ok(performance.now() - started < 10_000);
    // Within the ratio, a wide image's shortest-edge resize computes only its centre crop.
    const wide = await sharp({ create: { width: 800, height: 8, channels: 3, background: { r: 200, g: 10, b: 10 } } })
      .png()
      .toBuffer();
    const embedded = await invokeDense(runtime, { images: [{ base64: wide.toString('base64') }] });
    assert.equal(embedded.count, 1);
  });

  test('SVG (which libvips would render) is refused as a format the product does not take', async () => {
    const svg = Buffer.from(
      '<svg xmlns="http://www.w3.org/2000/svg" width="32" height="32"><rect width="32" height="32" fill="red"/></svg>',
    );
    const error = await rejectsWithCode(invoke(runtime, { images: [{ base64: svg.toString('base64') }] }), 'INVALID_INPUT_DATA');
    assert.match(error.message, /Image 0 is svg: send PNG, JPEG, WebP, GIF, TIFF or AVIF data/);
  });
});
