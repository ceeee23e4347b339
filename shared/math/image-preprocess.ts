import { type RgbImage, resizeLikePillow } from './resample.ts';

/** The parts of a Hugging Face `preprocessor_config.json` (CLIP / ViT style) that shape pixels. */
export interface ImagePreprocessor {
  readonly doResize: boolean;
  /** `{ shortestEdge }` keeps the aspect ratio; `{ height, width }` is exact. */
  readonly size: { shortestEdge: number } | { height: number; width: number };
  readonly resample: number;
  readonly doCenterCrop: boolean;
  readonly cropSize: { height: number; width: number };
  readonly doRescale: boolean;
  readonly rescaleFactor: number;
  readonly doNormalize: boolean;
  readonly mean: readonly [number, number, number];
  readonly std: readonly [number, number, number];
}

type Json = Record<string, unknown>;

function sizeOf(value: unknown, fallback: number): { height: number; width: number } | { shortestEdge: number } {
  if (typeof value === 'number') return { shortestEdge: value };
  const size = (value ?? {}) as Json;
  if (typeof size.shortest_edge === 'number') return { shortestEdge: size.shortest_edge };
  if (typeof size.height === 'number' && typeof size.width === 'number') return { height: size.height, width: size.width };
  return { shortestEdge: fallback };
}

function cropOf(value: unknown, fallback: number): { height: number; width: number } {
  if (typeof value === 'number') return { height: value, width: value };
  const size = (value ?? {}) as Json;
  return { height: Number(size.height ?? fallback), width: Number(size.width ?? fallback) };
}

/** True for ConvNeXt-style processors (ResNet exports use them): `crop_pct` decides resize and crop. */
function isConvNext(json: Json): boolean {
  return /ConvNext/i.test(String(json.image_processor_type ?? json.feature_extractor_type ?? ''));
}

/**
 * ConvNextImageProcessor's resize and crop, as transformers does it: below 384 pixels the shortest
 * edge is resized to `size / crop_pct` (aspect kept), then the centre `size` x `size` is cropped;
 * from 384 up the image is resized to `size` x `size`.
 */
function convNextGeometry(json: Json, size: { shortestEdge: number } | { height: number; width: number }) {
  const edge = 'shortestEdge' in size ? size.shortestEdge : size.height;
  const cropPct = typeof json.crop_pct === 'number' ? json.crop_pct : 224 / 256;
  if (edge >= 384) return { size: { height: edge, width: edge }, doCenterCrop: false, cropSize: { height: edge, width: edge } };
  return { size: { shortestEdge: Math.trunc(edge / cropPct) }, doCenterCrop: true, cropSize: { height: edge, width: edge } };
}

/**
 * The pixel size every preprocessed image has, or undefined when it follows each image's aspect
 * ratio (a shortest-edge resize without a crop).
 */
export function preprocessedSize(config: ImagePreprocessor): { height: number; width: number } | undefined {
  if (config.doCenterCrop) return config.cropSize;
  if (!config.doResize) return undefined;
  return 'shortestEdge' in config.size ? undefined : config.size;
}

/**
 * Reads a preprocessor_config.json object (CLIP, ViT, BiT or ConvNeXt processors), with the Hugging
 * Face defaults for missing keys.
 */
export function parsePreprocessorConfig(json: Json): ImagePreprocessor {
  const declared = sizeOf(json.size, 224);
  const convNext = isConvNext(json) ? convNextGeometry(json, declared) : undefined;
  const size = convNext?.size ?? declared;
  const side = 'shortestEdge' in declared ? declared.shortestEdge : declared.height;
  const triple = (value: unknown, fallback: [number, number, number]): [number, number, number] =>
    Array.isArray(value) && value.length === 3
      ? (value.map(Number) as [number, number, number])
      : typeof value === 'number'
        ? [value, value, value]
        : fallback;
  return {
    doResize: json.do_resize !== false,
    size,
    // transformers' defaults: bicubic for CLIP-style processors, bilinear for ConvNeXt.
    resample: typeof json.resample === 'number' ? json.resample : convNext ? 2 : 3,
    doCenterCrop: convNext?.doCenterCrop ?? json.do_center_crop === true,
    cropSize: convNext?.cropSize ?? cropOf(json.crop_size, side),
    doRescale: json.do_rescale !== false,
    rescaleFactor: typeof json.rescale_factor === 'number' ? json.rescale_factor : 1 / 255,
    doNormalize: json.do_normalize !== false,
    // transformers' defaults: ImageNet statistics for ConvNeXt, 0.5 for ViT-style processors.
    mean: triple(json.image_mean, convNext ? [0.485, 0.456, 0.406] : [0.5, 0.5, 0.5]),
    std: triple(json.image_std, convNext ? [0.229, 0.224, 0.225] : [0.5, 0.5, 0.5]),
  };
}

/** Output size of a shortest-edge resize, as transformers' `get_resize_output_image_size` computes it. */
export function shortestEdgeSize(width: number, height: number, shortest: number): { width: number; height: number } {
  if (width <= height) return { width: shortest, height: Math.trunc((shortest * height) / width) };
  return { width: Math.trunc((shortest * width) / height), height: shortest };
}

function centerCrop(image: RgbImage, height: number, width: number): RgbImage {
  if (image.width === width && image.height === height) return image;
  // Pad with zeros where the image is smaller than the crop, as transformers does.
  const top = Math.floor((image.height - height) / 2);
  const left = Math.floor((image.width - width) / 2);
  const out = new Uint8Array(width * height * image.channels);
  for (let y = 0; y < height; y++) {
    const sourceY = y + top;
    if (sourceY < 0 || sourceY >= image.height) continue;
    for (let x = 0; x < width; x++) {
      const sourceX = x + left;
      if (sourceX < 0 || sourceX >= image.width) continue;
      for (let c = 0; c < image.channels; c++)
        out[(y * width + x) * image.channels + c] = image.data[(sourceY * image.width + sourceX) * image.channels + c];
    }
  }
  return { data: out, width, height, channels: image.channels };
}

/** `(value * rescale - mean) / std` for every 8-bit value, per channel: 256 entries instead of a division per pixel. */
function normalizationTables(config: ImagePreprocessor): Float32Array[] {
  const scale = config.doRescale ? config.rescaleFactor : 1;
  return [0, 1, 2].map((c) => {
    const mean = config.doNormalize ? config.mean[c] : 0;
    const std = config.doNormalize ? config.std[c] : 1;
    return Float32Array.from({ length: 256 }, (_, value) => (value * scale - mean) / std);
  });
}

const tables = new WeakMap<ImagePreprocessor, Float32Array[]>();

/**
 * RGB pixels -> `pixel_values` for one image, channels first (`[3, H, W]`, float32): resize,
 * centre crop, rescale, normalise, in the order Hugging Face image processors apply them.
 * A centre crop that lies inside the resized image is computed directly (only the kept pixels
 * are resampled); one that pads falls back to resizing whole, then cropping.
 * Writes into `out` at `offset` (so a batch is filled without copies) and returns [H, W].
 */
export function preprocessImage(
  image: RgbImage,
  config: ImagePreprocessor,
  out?: { data: Float32Array; offset: number },
): { pixels: Float32Array; height: number; width: number } {
  let current = image;
  let cropped = false;
  if (config.doResize) {
    const target = 'shortestEdge' in config.size ? shortestEdgeSize(current.width, current.height, config.size.shortestEdge) : config.size;
    const crop = config.cropSize;
    if (config.doCenterCrop && crop.width <= target.width && crop.height <= target.height) {
      const box = {
        left: Math.floor((target.width - crop.width) / 2),
        top: Math.floor((target.height - crop.height) / 2),
        width: crop.width,
        height: crop.height,
      };
      current = resizeLikePillow(current, target.width, target.height, config.resample, box);
      cropped = true;
    } else {
      current = resizeLikePillow(current, target.width, target.height, config.resample);
    }
  }
  if (config.doCenterCrop && !cropped) current = centerCrop(current, config.cropSize.height, config.cropSize.width);
  const { width, height, data, channels } = current;
  const plane = width * height;
  const pixels = out?.data ?? new Float32Array(3 * plane);
  const base = out?.offset ?? 0;
  const lookup = tables.get(config) ?? normalizationTables(config);
  tables.set(config, lookup);
  for (let c = 0; c < 3; c++) {
    const table = lookup[c];
    const offset = base + c * plane;
    for (let i = 0, j = c; i < plane; i++, j += channels) pixels[offset + i] = table[data[j]];
  }
  return { pixels, height, width };
}
