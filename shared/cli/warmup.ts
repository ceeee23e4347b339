import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { type Config, type Env, loadConfig } from '../config.ts';
import { cpuFlags, nothingToMovePath, storedCopyPath, u8s8Saturates, writeStoredCopy } from '../engines/session/int8-kernels.ts';
import type { WeightStorage } from '../engines/session/int8-weights.ts';
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
  /**
   * The int8 model's copies with its weights stored the other way (see int8-kernels.ts): for each
   * storage, the copy's path and how it compared with the model as exported, or why there is none.
   */
  readonly int8_weights: Readonly<Record<WeightStorage, string>>;
}

/**
 * Writes the copies of an int8 model with its weights stored signed and unsigned (each where the
 * model stores them otherwise) and their optimised graphs, and compares each copy's response with
 * the model's on a host whose u8s8 kernels are exact (elsewhere one of the two has no exact
 * result to compare with). Where there is nothing to move, a marker says so.
 */
async function prepareInt8Copies(
  config: Config,
  modelPath: string,
  request: EmbeddingRequest,
  expected: EmbeddingResponse,
): Promise<Record<WeightStorage, string>> {
  const exact = !u8s8Saturates(process.arch, cpuFlags());
  const outcome = { signed: '', unsigned: '' };
  for (const storage of ['unsigned', 'signed'] as const) {
    const copy = storedCopyPath(modelPath, storage);
    await Promise.all([copy, nothingToMovePath(modelPath, storage), optimizedGraphOf(copy)].map((path) => rm(path, { force: true })));
    const written = await writeStoredCopy(modelPath, storage);
    if ('skipped' in written) {
      outcome[storage] = `none: ${written.skipped}`;
      continue;
    }
    await saveOptimizedModel(written.path);
    if (!exact) {
      outcome[storage] =
        `${written.path} (not compared on this host: its u8s8 kernels saturate, so one of the two gives no exact result here)`;
      continue;
    }
    const check = await createServices({ ...config, runtime: { ...config.runtime, int8Weights: storage } });
    const difference = largestDifference(expected, await handleEmbeddingRequest(request, check).finally(() => check.dispose()));
    if (difference > 1e-4) {
      await Promise.all([written.path, optimizedGraphOf(written.path)].map((path) => rm(path, { force: true })));
      outcome[storage] = `not kept: its response differs from the model's by ${difference}`;
    } else outcome[storage] = `${written.path} (largest difference from the model as exported: ${difference})`;
  }
  return outcome;
}

/**
 * Loads the configured model exactly as the Lambda does and serves one sample request, then saves
 * ONNX Runtime's optimised graph beside the model (faster cold starts) and keeps it only if it
 * gives the same response.
 */
export async function warmupModel(env: Env): Promise<WarmupSummary> {
  // The model as exported first; the copies with its weights stored otherwise are made and compared after.
  const config = { ...loadConfig(env), runtime: { ...loadConfig(env).runtime, int8Weights: 'exported' as const } };
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
  const int8 = await prepareInt8Copies(config, modelPath, request, response);
  return {
    model_id: services.model.id,
    model_type: services.model.type,
    count: response.count,
    load_ms: Math.round(loaded - started),
    first_request_ms: Math.round(firstRequestMs),
    optimized_graph: optimized,
    int8_weights: int8,
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
