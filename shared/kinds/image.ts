/**
 * Image embeddings: decode with sharp, preprocess as the model's Hugging Face processor does
 * (CLIP/ViT or ConvNeXt, Pillow-exact resampling), run in batches, normalise. Serves
 * `{"images": [...]}` / `{"s3_images": [...]}` and embeds the worker's image files.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { coalesce } from '../engines/batching/coalesce.ts';
import { runInBatches } from '../engines/batching/run.ts';
import { checkOutputShape, type ModelLabel, selectOutput } from '../engines/session/contract.ts';
import type { OutputTensor, RunHint, Session } from '../engines/session/types.ts';
import { ConfigurationError, InternalError, InvalidInputDataError } from '../errors.ts';
import { type ImagePreprocessor, parsePreprocessorConfig, preprocessedSize, preprocessImage } from '../math/image-preprocess.ts';
import type { RgbImage } from '../math/resample.ts';
import { l2NormalizeInPlace, toNumberArray } from '../math/vector.ts';
import type { ModelSpec } from '../models/types.ts';
import { requireExactlyOne } from '../request/checks.ts';
import { inputContext, readImages } from '../request/inputs.ts';
import type { DenseResponse } from '../request/schema.ts';
import type { Engine, EngineParts, ModelKind } from './types.ts';

/** Images larger than this many pixels are refused before decoding (a decompression-bomb guard). */
const MAX_INPUT_PIXELS = 100_000_000;

/**
 * Images longer on one side than this many times the other are refused: a shortest-edge resize
 * of a 1 x 400,000 strip is 224 x 89.6M pixels, and no model embeds such a sliver meaningfully.
 */
export const MAX_ASPECT_RATIO = 100;

const EXAMPLE = '{"images": [{"base64": "..."}]} or {"s3_images": ["bucket/key.png"]}';

// sharp (libvips) loads only in image models' processes.
let sharpModule: Promise<typeof import('sharp')> | undefined;
const loadSharp = () => {
  sharpModule ??= import('sharp');
  return sharpModule;
};

/** The formats images are decoded from (sharp's names; AVIF is HEIF with AV1 compression). */
export const DECODED_FORMATS = ['png', 'jpeg', 'webp', 'gif', 'tiff', 'heif'] as const;

/**
 * Decodes an image file (PNG, JPEG, WebP, GIF, TIFF, AVIF) into 8-bit RGB; other formats libvips
 * reads (SVG, PDF, HEIC, ...) are refused. Alpha is dropped (as
 * Pillow's `convert("RGB")` does), EXIF orientation applied, animated images give their first frame.
 * @param index the image's position in the request, for the error message.
 */
export async function decodeImage(bytes: Uint8Array, index: number): Promise<RgbImage> {
  const { default: sharp } = await loadSharp();
  try {
    const image = sharp(bytes, { limitInputPixels: MAX_INPUT_PIXELS, pages: 1 });
    // libvips reads more than these (SVG, PDF, HEIC, JPEG 2000, ...): only the documented formats are taken.
    const { format, compression } = await image.metadata();
    if (!format || !(DECODED_FORMATS as readonly string[]).includes(format) || (format === 'heif' && compression !== 'av1')) {
      throw new InvalidInputDataError(
        `Image ${index} is ${format === 'heif' ? `HEIF (${compression ?? 'unknown'})` : (format ?? 'of an unknown format')}: send PNG, JPEG, WebP, GIF, TIFF or AVIF data.`,
        { details: { index, format } },
      );
    }
    const { data, info } = await image
      .rotate()
      .toColourspace('srgb')
      .removeAlpha()
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    const ratio = Math.max(info.width, info.height) / Math.max(1, Math.min(info.width, info.height));
    if (ratio > MAX_ASPECT_RATIO) {
      throw new InvalidInputDataError(
        `Image ${index} is ${info.width} x ${info.height} pixels (aspect ratio ${Math.round(ratio)}:1); images longer on one side than ${MAX_ASPECT_RATIO} times the other are refused.`,
        { details: { index, width: info.width, height: info.height, max_aspect_ratio: MAX_ASPECT_RATIO } },
      );
    }
    return { data, width: info.width, height: info.height, channels: info.channels };
  } catch (cause) {
    if (cause instanceof InvalidInputDataError) throw cause;
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

/** The pixel input: `pixel_values` when the model has it, else its only input (ResNet exports call it `input`). */
function selectPixelInput(session: Session, spec: ModelSpec, model: ModelLabel): string {
  const found = session.inputNames;
  const named = spec.inputs.find((rule) => found.includes(rule.name));
  if (named) return named.name;
  if (found.length === 1) return found[0];
  throw new ConfigurationError(
    `The image model ${model.id} (${model.path}) has inputs ${found.join(', ')}: expected ${spec.inputs.map((rule) => rule.name).join(' or ')}, or a single input.`,
    { details: { model_id: model.id, expected_inputs: spec.inputs.map((rule) => rule.name), found_inputs: found } },
  );
}

/**
 * A graph with a fixed input size (ResNet's 224 x 224) must get exactly that from preprocessing;
 * checked once here rather than failing every request.
 */
function checkFixedSize(session: Session, input: string, preprocessor: ImagePreprocessor, model: ModelLabel): void {
  const [, , height, width] = session.shapes[input] ?? [];
  if (typeof height !== 'number' || typeof width !== 'number') return;
  const produced = preprocessedSize(preprocessor);
  if (produced && produced.height === height && produced.width === width) return;
  throw new ConfigurationError(
    `The image model ${model.id} (${model.path}) takes ${height} x ${width} images, but its preprocessor_config.json gives ` +
      `${produced ? `${produced.height} x ${produced.width}` : 'sizes that follow each image (no centre crop)'}.`,
    { details: { model_id: model.id, expected_size: [height, width], preprocessed_size: produced ?? null } },
  );
}

/**
 * One vector per image: `[batch, dim]` as it is; `[batch, tokens, dim]` gives token 0 (the CLS
 * token, as fastembed-rs reads nomic-embed-vision); `[batch, channels, 1, 1]` (ResNet) flattened.
 */
function imageRows(output: OutputTensor, batch: number, spec: ModelSpec): Float32Array[] {
  const { data, dims } = output;
  const rank = dims.length;
  if (rank === 4 && (dims[2] !== 1 || dims[3] !== 1))
    throw new InternalError(`The image model ${spec.id} returned [${dims.join(', ')}]: a 4-D output must be [batch, channels, 1, 1].`);
  if (rank < 2 || rank > 4)
    throw new InternalError(`The image model ${spec.id} returned [${dims.join(', ')}]: expected 2 to 4 dimensions.`);
  const dim = rank === 3 ? dims[2] : dims[1];
  const stride = rank === 3 ? dims[1] * dim : dim;
  return Array.from({ length: batch }, (_, row) => data.slice(row * stride, row * stride + dim));
}

export interface ImageEngine extends Engine {
  readonly type: 'image';
  /** Encoded image files (PNG, JPEG, WebP, GIF, TIFF, AVIF), in order. */
  embed(images: readonly Uint8Array[]): Promise<{ embeddings: Float32Array[] }>;
}

function imageEngine(session: Session, input: string, output: string, preprocessor: ImagePreprocessor, parts: EngineParts): ImageEngine {
  const { spec, limits } = parts;
  const batchLimits = imageKind.batchLimits(limits, parts.session.sessions);

  async function runPixels(pixels: Float32Array, dims: number[], hint: RunHint): Promise<Float32Array[]> {
    const outputs = await session.run({ [input]: { type: 'float32', data: pixels, dims } }, [output], hint);
    const result = outputs[output];
    const vectors = imageRows(result, dims[0], spec);
    result.dispose();
    if (spec.normalize) for (const vector of vectors) l2NormalizeInPlace(vector);
    return vectors;
  }

  // Decoding happens per batch, so a request of many large images never holds them all decoded;
  // the next batch is decoded and preprocessed while the current one runs (see runInBatches).
  async function prepare(batch: { bytes: Uint8Array; index: number }[]) {
    const decoded = await Promise.all(batch.map(({ bytes, index }) => decodeImage(bytes, index)));
    return decoded.map((image) => preprocessImage(image, preprocessor));
  }

  async function run(processed: Awaited<ReturnType<typeof prepare>>, hint: RunHint): Promise<Float32Array[]> {
    const { height, width } = processed[0];
    if (processed.some((item) => item.height !== height || item.width !== width)) {
      // Without a centre crop, sizes follow each image's aspect ratio: run those one by one.
      const vectors: Float32Array[] = [];
      for (const item of processed) vectors.push(...(await runPixels(item.pixels, [1, 3, item.height, item.width], hint)));
      return vectors;
    }
    const size = 3 * height * width;
    const pixels = new Float32Array(processed.length * size);
    for (const [row, item] of processed.entries()) pixels.set(item.pixels, row * size);
    return runPixels(pixels, [processed.length, 3, height, width], hint);
  }

  const engine: ImageEngine = {
    type: 'image',
    spec,
    async embed(images) {
      const items = images.map((bytes, index) => ({ bytes, index }));
      const embeddings = await runInBatches(items, () => 1, batchLimits, { prepare, run }, session);
      return { embeddings };
    },
    async handle(request, services): Promise<DenseResponse> {
      requireExactlyOne(request, ['images', 's3_images'], engine, EXAMPLE);
      const images = await readImages(request, inputContext(services));
      const result = await engine.embed(images);
      return {
        embeddings: result.embeddings.map(toNumberArray),
        dimension: result.embeddings[0]?.length ?? spec.dimension ?? 0,
        model_type: 'image',
        model_id: spec.id,
        count: result.embeddings.length,
      };
    },
    documentEmbedder() {
      return {
        reads: 'images',
        embed: coalesce(async (images: Uint8Array[]) => {
          const result = await engine.embed(images);
          return result.embeddings.map((vector) => ({ vector: toNumberArray(vector), tokens: 0 }));
        }),
      };
    },
    dispose: () => session.release(),
  };
  return engine;
}

export const imageKind: ModelKind = {
  type: 'image',
  // fastembed needs only these two files for an image model; config.json is optional.
  requiredFiles: ['preprocessor_config.json'],
  optionalFiles: ['config.json'],
  inputs: [{ name: 'pixel_values', when: 'if-present' }],
  // fastembed-rs (src/image_embedding/impl.rs): the only output, else these names in this order.
  output: { onlyOne: true, names: ['image_embeds', 'last_hidden_state'] },
  request: { fields: ['images', 's3_images'], example: EXAMPLE },
  batchLimits: (limits, sessions) => {
    const share = limits.batchInvariant ? 1 : Math.max(1, Math.floor(limits.maxBatchImages / sessions));
    return { maxTokens: share, maxItems: share };
  },
  async sampleRequest() {
    const { default: sharp } = await loadSharp();
    const png = await sharp({ create: { width: 64, height: 48, channels: 3, background: { r: 200, g: 80, b: 30 } } })
      .png()
      .toBuffer();
    return { images: [{ base64: png.toString('base64') }] };
  },
  async open(parts) {
    const { spec } = parts;
    const label = { id: spec.id, path: join(spec.dir, spec.file) };
    const [preprocessor, session] = await Promise.all([loadPreprocessor(spec.dir), parts.opening]);
    const input = selectPixelInput(session, spec, label);
    const output = selectOutput(session, spec.output, label);
    checkOutputShape(
      session,
      output,
      { ranks: [2, 3, 4], size: spec.dimension, what: '[batch, dim], [batch, tokens, dim] or [batch, dim, 1, 1]' },
      label,
    );
    checkFixedSize(session, input, preprocessor, label);
    return imageEngine(session, input, output, preprocessor, parts);
  },
};
