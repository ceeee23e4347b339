import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { ConfigurationError, InvalidInputDataError } from '../errors.ts';
import { type ImagePreprocessor, parsePreprocessorConfig, preprocessImage } from '../math/image-preprocess.ts';
import type { RgbImage } from '../math/resample.ts';
import { l2NormalizeInPlace } from '../math/vector.ts';
import { batchLimitsFor, runInBatches } from './batching/run.ts';
import { requireOutput } from './session/outputs.ts';
import type { Session } from './session/types.ts';
import type { EngineParts, ImageEngine } from './types.ts';

/** Images larger than this many pixels are refused before decoding (a decompression-bomb guard). */
const MAX_INPUT_PIXELS = 100_000_000;

/**
 * Decodes an image file (PNG, JPEG, WebP, GIF, TIFF, AVIF) into 8-bit RGB. Alpha is dropped (as
 * Pillow's `convert("RGB")` does), EXIF orientation applied, animated images give their first frame.
 * @param index the image's position in the request, for the error message.
 */
export async function decodeImage(bytes: Uint8Array, index: number): Promise<RgbImage> {
  try {
    const { data, info } = await sharp(bytes, { limitInputPixels: MAX_INPUT_PIXELS, pages: 1 })
      .rotate()
      .toColourspace('srgb')
      .removeAlpha()
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    return { data, width: info.width, height: info.height, channels: info.channels };
  } catch (cause) {
    throw new InvalidInputDataError(
      `Image ${index} could not be decoded (${cause instanceof Error ? cause.message : String(cause)}): send PNG, JPEG, WebP, GIF, TIFF or AVIF data.`,
      { cause, details: { index } },
    );
  }
}

async function loadPreprocessor(dir: string): Promise<ImagePreprocessor> {
  const path = join(dir, 'preprocessor_config.json');
  try {
    return parsePreprocessorConfig(JSON.parse(await readFile(path, 'utf8')));
  } catch (cause) {
    throw new ConfigurationError(`${path} could not be read as JSON: an image model needs its preprocessor_config.json.`, { cause });
  }
}

async function runPixels(
  session: Session,
  inputName: string,
  outputName: string,
  pixels: Float32Array,
  dims: number[],
  normalize: boolean,
): Promise<Float32Array[]> {
  const outputs = await session.run({ [inputName]: { type: 'float32', data: pixels, dims } }, [outputName]);
  const output = outputs[outputName];
  const data = output.data as Float32Array;
  // [batch, dim] embeddings; a [batch, seq, dim] output (last_hidden_state) is CLS-pooled.
  const dim = output.dims[output.dims.length - 1];
  const stride = output.dims.length === 3 ? output.dims[1] * dim : dim;
  const vectors = Array.from({ length: dims[0] }, (_, row) => data.slice(row * stride, row * stride + dim));
  output.dispose();
  if (normalize) for (const vector of vectors) l2NormalizeInPlace(vector);
  return vectors;
}

/** Image embeddings: decode with sharp, preprocess as Pillow-based HF processors do, run in batches. */
export async function createImageEngine(options: EngineParts): Promise<ImageEngine> {
  const { spec, limits } = options;
  const modelPath = join(spec.dir, spec.file);
  const [preprocessor, session] = await Promise.all([loadPreprocessor(spec.dir), options.opening]);
  const outputName = requireOutput(session, spec.outputName, modelPath);
  const inputName = session.inputNames.includes('pixel_values') ? 'pixel_values' : session.inputNames[0];

  // Decoding happens per batch, so a request of many large images never holds them all decoded;
  // the next batch is decoded and preprocessed while the current one runs (see runInBatches).
  async function prepare(batch: { bytes: Uint8Array; index: number }[]) {
    const decoded = await Promise.all(batch.map(({ bytes, index }) => decodeImage(bytes, index)));
    return decoded.map((image) => preprocessImage(image, preprocessor));
  }

  async function run(processed: Awaited<ReturnType<typeof prepare>>): Promise<Float32Array[]> {
    const { height, width } = processed[0];
    if (processed.some((item) => item.height !== height || item.width !== width)) {
      // Without a centre crop, sizes follow each image's aspect ratio: run those one by one.
      const vectors: Float32Array[] = [];
      for (const item of processed)
        vectors.push(...(await runPixels(session, inputName, outputName, item.pixels, [1, 3, item.height, item.width], spec.normalize)));
      return vectors;
    }
    const size = 3 * height * width;
    const pixels = new Float32Array(processed.length * size);
    for (const [row, item] of processed.entries()) pixels.set(item.pixels, row * size);
    return runPixels(session, inputName, outputName, pixels, [processed.length, 3, height, width], spec.normalize);
  }

  return {
    type: 'image',
    spec,
    async embed(images: readonly Uint8Array[]) {
      const items = images.map((bytes, index) => ({ bytes, index }));
      const embeddings = await runInBatches(
        items,
        () => 1,
        batchLimitsFor('image', limits, options.session.sessions),
        { prepare, run },
        session.parallelism,
      );
      return { embeddings };
    },
    dispose: () => session.release(),
  };
}
