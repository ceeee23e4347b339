/** The event pipeline with an image model: every supported image type dropped into the bucket. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import sharp, { type Sharp } from 'sharp';
import type { LocalStack } from '../../local/stack.ts';
import { errorRecordSchema, vectorsDocumentSchema } from '../../shared/pipeline/outputs.ts';
import { listKeys, readJson, startTestStack, testResources, waitFor } from '../helpers/stack.ts';
import { tinyModel } from '../helpers/tiny.ts';

const ENCODERS = {
  png: (image: Sharp) => image.png(),
  jpg: (image: Sharp) => image.jpeg(),
  jpeg: (image: Sharp) => image.jpeg(),
  webp: (image: Sharp) => image.webp(),
  gif: (image: Sharp) => image.gif(),
  tif: (image: Sharp) => image.tiff(),
  tiff: (image: Sharp) => image.tiff(),
  avif: (image: Sharp) => image.avif(),
} as const;

describe('pipeline: images', () => {
  let stack: LocalStack;
  let model: Awaited<ReturnType<typeof tinyModel>>;
  const resources = testResources();
  const bucket = resources.names.bucket;

  before(async () => {
    model = await tinyModel('image');
    stack = await startTestStack({ MODEL_ID: 'tiny/vision', MODEL_DIR: model.dir }, resources);
  });
  after(async () => {
    await stack?.stop();
    await model?.cleanup();
  });

  test('every image type gets a vector; a text file and a broken image get error records', async () => {
    const files: string[] = [];
    for (const [extension, encode] of Object.entries(ENCODERS)) {
      for (let i = 0; i < 4; i++) {
        const colour = { r: (i * 60) % 256, g: 40 * i, b: 200 - i * 30 };
        const bytes = await encode(sharp({ create: { width: 20 + i, height: 16, channels: 3, background: colour } })).toBuffer();
        const key = `photos/${extension}-${i}.${extension}`;
        files.push(key);
        await stack.services.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: bytes }));
      }
    }
    await stack.services.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'photos/notes.txt', Body: 'a cat' }));
    await stack.services.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'photos/broken.png', Body: 'not a png' }));
    await waitFor('all image outputs', async () => {
      const present = await listKeys(stack.services.s3, bucket);
      return files.every((key) => present.includes(`${key}.vectors.json`)) &&
        present.includes('photos/broken.png.error.json') &&
        present.includes('photos/notes.txt.error.json')
        ? true
        : undefined;
    });
    for (const key of files) {
      const document = await readJson(stack.services.s3, bucket, `${key}.vectors.json`, vectorsDocumentSchema);
      assert.equal(document.model_type, 'image');
      assert.equal(document.count, 1);
      assert.equal(document.chunks[0].vector?.length, document.dimension);
    }
    const text = await readJson(stack.services.s3, bucket, 'photos/notes.txt.error.json', errorRecordSchema);
    assert.equal(text.error.code, 'UNSUPPORTED_FILE_TYPE');
    const broken = await readJson(stack.services.s3, bucket, 'photos/broken.png.error.json', errorRecordSchema);
    assert.equal(broken.error.code, 'INVALID_INPUT_DATA');
  });
});
