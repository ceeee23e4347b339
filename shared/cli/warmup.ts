import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type Config, type Env, loadConfig } from '../config.ts';
import { cpuFlags, u8s8Saturates, unsignedModelPath, writeUnsignedModel } from '../engines/session/int8-kernels.ts';
import { optimizedGraphOf, saveOptimizedModel } from '../engines/session/optimize-graph.ts';
import { describeFailure, toErrorBody, toVectorizerError } from '../errors.ts';
import { KINDS } from '../kinds/index.ts';
import { resolveModel } from '../models/resolve.ts';
import type { ModelType } from '../models/types.ts';
import { handleEmbeddingRequest } from '../request/handle.ts';
import type { EmbeddingRequest, EmbeddingResponse } from '../request/schema.ts';
import { createServices } from '../services.ts';
import type { CliIo } from './io.ts';

/** Every number of a response (vectors, sparse values, scores), in order. */
function numbersOf(value: unknown, out: number[] = []): number[] {
  if (typeof value === 'number') out.push(value);
  else if (Array.isArray(value)) for (const item of value) numbersOf(item, out);
  else if (value && typeof value === 'object') for (const item of Object.values(value)) numbersOf(item, out);
  return out;
}

/** Largest difference between two responses' numbers (Infinity when their shapes differ). */
function largestDifference(a: EmbeddingResponse, b: EmbeddingResponse): number {
  const [x, y] = [numbersOf(a), numbersOf(b)];
  if (x.length !== y.length) return Number.POSITIVE_INFINITY;
  return x.reduce((largest, value, index) => Math.max(largest, Math.abs(value - y[index])), 0);
}

export interface WarmupSummary {
  readonly model_id: string;
  readonly model_type: ModelType;
  readonly count: number;
  readonly load_ms: number;
  readonly first_request_ms: number;
  /** The saved optimised graph, or why there is none. */
  readonly optimized_graph: string;
  /** The unsigned-weight copy of an int8 model (exact on every CPU; see int8-kernels.ts), or why there is none. */
  readonly unsigned_int8: string;
  /** How the copy compared with the model as exported on this host, or why it was not compared. */
  readonly unsigned_int8_check?: string;
}

/**
 * Writes the unsigned-weight copy of an int8 model and its optimised graph, and compares its
 * response with the model's on a host whose u8s8 kernels are exact (elsewhere the model as
 * exported has no exact result to compare with). Where there is nothing to move, a marker says so.
 */
async function prepareUnsignedInt8(
  config: Config,
  modelPath: string,
  request: EmbeddingRequest,
  expected: EmbeddingResponse,
): Promise<Pick<WarmupSummary, 'unsigned_int8' | 'unsigned_int8_check'>> {
  const unsigned = unsignedModelPath(modelPath);
  await Promise.all([unsigned, `${unsigned}.none`, optimizedGraphOf(unsigned)].map((path) => rm(path, { force: true })));
  const written = await writeUnsignedModel(modelPath);
  if ('skipped' in written) {
    if (written.skipped.includes('no signed int8 weights')) await writeFile(`${unsigned}.none`, '');
    return { unsigned_int8: `not needed: ${written.skipped}` };
  }
  await saveOptimizedModel(written.path);
  if (u8s8Saturates(process.arch, cpuFlags()))
    return {
      unsigned_int8: written.path,
      unsigned_int8_check: 'not compared on this host: its u8s8 kernels saturate, so the model as exported gives no exact result here',
    };
  const check = await createServices({ ...config, runtime: { ...config.runtime, int8Weights: 'unsigned' } });
  const difference = largestDifference(expected, await handleEmbeddingRequest(request, check).finally(() => check.dispose()));
  if (difference > 1e-4) {
    await Promise.all([written.path, optimizedGraphOf(written.path)].map((path) => rm(path, { force: true })));
    return { unsigned_int8: `not kept: its response differs from the model's by ${difference}` };
  }
  return { unsigned_int8: written.path, unsigned_int8_check: `largest difference from the model as exported: ${difference}` };
}

/**
 * Loads the configured model exactly as the Lambda does and serves one sample request, then saves
 * ONNX Runtime's optimised graph beside the model (faster cold starts) and keeps it only if it
 * gives the same response.
 */
export async function warmupModel(env: Env): Promise<WarmupSummary> {
  // The model as exported first; the unsigned copy is made and compared after.
  const config = { ...loadConfig(env), runtime: { ...loadConfig(env).runtime, int8Weights: 'signed' as const } };
  const spec = await resolveModel(config.model);
  const modelPath = join(spec.dir, spec.file);
  const graph = optimizedGraphOf(modelPath);
  // A graph left by an earlier warm-up would be loaded instead of the model: start from the model.
  await rm(graph, { force: true });
  const started = performance.now();
  const services = await createServices(config);
  const loaded = performance.now();
  const request = await KINDS[services.model.type].sampleRequest();
  const response = await handleEmbeddingRequest(request, services).finally(() => services.dispose());
  const firstRequestMs = performance.now() - loaded;
  const outcome = await saveOptimizedModel(modelPath);
  let optimized: string;
  if ('saved' in outcome) {
    const check = await createServices(config);
    const difference = largestDifference(response, await handleEmbeddingRequest(request, check).finally(() => check.dispose()));
    if (difference > 1e-5) {
      await rm(graph, { force: true });
      optimized = `not kept: its response differs from the model's by ${difference}`;
    } else optimized = outcome.saved;
  } else optimized = `not saved: ${outcome.skipped}`;
  const int8 = await prepareUnsignedInt8(config, modelPath, request, response);
  return {
    model_id: services.model.id,
    model_type: services.model.type,
    count: response.count,
    load_ms: Math.round(loaded - started),
    first_request_ms: Math.round(firstRequestMs),
    optimized_graph: optimized,
    ...int8,
  };
}

/**
 * `vectorizer warmup`: loads the configured model exactly as the Lambda does and serves one sample
 * request, so a broken model fails the image build instead of the first request; saves the
 * optimised graph the Lambda's sessions then load.
 */
export async function runWarmup(_args: string[], io: CliIo): Promise<number> {
  try {
    io.stdout.write(`${JSON.stringify(await warmupModel(io.env))}\n`);
    return 0;
  } catch (error) {
    io.stderr.write(`vectorizer warmup: ${describeFailure(error)}\n${JSON.stringify(toErrorBody(toVectorizerError(error)))}\n`);
    return 1;
  }
}
