import { join } from 'node:path';
import { AutoImageProcessor, RawImage } from '@huggingface/transformers';
import sharp from 'sharp';
import { InvalidInputDataError } from '../errors.ts';
import { l2NormalizeInPlace } from '../math/vector.ts';
import { runInBatches } from './run-batches.ts';
import { createSession, OrtTensor } from './session.ts';
import { requireOutput } from './session-io.ts';
import type { EngineOptions, ImageEngine } from './types.ts';

/** Images larger than this many pixels are refused before decoding (a decompression-bomb guard). */
const MAX_INPUT_PIXELS = 100_000_000;

/**
 * Decodes an image file (PNG, JPEG, WebP, GIF, TIFF, AVIF) into RGB pixels. Alpha is flattened
 * away, and animated images give their first frame.
 * @param index the image's position in the request, for the error message.
 */
export async function decodeImage(bytes: Uint8Array, index: number): Promise<RawImage> {
  try {
    const { data, info } = await sharp(bytes, { limitInputPixels: MAX_INPUT_PIXELS, pages: 1 })
      .rotate() // honour EXIF orientation, as PIL-based preprocessors see the upright image
      .removeAlpha()
      .toColourspace('srgb')
      .raw()
      .toBuffer({ resolveWithObject: true });
    return new RawImage(new Uint8ClampedArray(data.buffer, data.byteOffset, data.byteLength), info.width, info.height, 3);
  } catch (cause) {
    throw new InvalidInputDataError(
      `Image ${index} could not be decoded (${cause instanceof Error ? cause.message : String(cause)}): send PNG, JPEG, WebP, GIF, TIFF or AVIF data.`,
      { cause, details: { index } },
    );
  }
}

/** Image embeddings: decode with sharp, preprocess with the model's processor, run in batches. */
export async function createImageEngine(options: EngineOptions): Promise<ImageEngine> {
  const { spec, limits } = options;
  const modelPath = join(spec.dir, spec.file);
  const [processor, session] = await Promise.all([
    AutoImageProcessor.from_pretrained(spec.dir, { local_files_only: true }),
    createSession(modelPath, { intraOpThreads: options.intraOpThreads }),
  ]);
  const outputName = requireOutput(session, spec.outputName, modelPath);
  const inputName = session.inputNames.includes('pixel_values') ? 'pixel_values' : session.inputNames[0];

  // Decoding happens per batch, so a request of many large images never holds them all decoded.
  async function runBatch(batch: { bytes: Uint8Array; index: number }[]): Promise<Float32Array[]> {
    const decoded = await Promise.all(batch.map(({ bytes, index }) => decodeImage(bytes, index)));
    const processed = await Promise.all(decoded.map((image) => processor(image)));
    const tensors = processed.map((item) => item.pixel_values as { data: Float32Array; dims: number[] });
    const [, channels, height, width] = tensors[0].dims;
    const size = channels * height * width;
    const pixels = new Float32Array(batch.length * size);
    tensors.forEach((tensor, row) => pixels.set(tensor.data, row * size));
    const input = new OrtTensor('float32', pixels, [batch.length, channels, height, width]);
    const outputs = await session.run({ [inputName]: input }, [outputName]);
    const output = outputs[outputName];
    const data = output.data as Float32Array;
    // [batch, dim] embeddings; a [batch, seq, dim] output (e.g. last_hidden_state) is CLS-pooled.
    const dim = output.dims[output.dims.length - 1];
    const stride = output.dims.length === 3 ? output.dims[1] * dim : dim;
    const vectors = Array.from({ length: batch.length }, (_, row) => data.slice(row * stride, row * stride + dim));
    output.dispose();
    if (spec.normalize) for (const vector of vectors) l2NormalizeInPlace(vector);
    return vectors;
  }

  return {
    type: 'image',
    spec,
    async embed(images: readonly Uint8Array[]) {
      const items = images.map((bytes, index) => ({ bytes, index }));
      const embeddings = await runInBatches(items, () => 1, { maxTokens: limits.maxBatchImages, maxItems: limits.maxBatchImages }, runBatch);
      return { embeddings };
    },
    dispose: () => session.release(),
  };
}
