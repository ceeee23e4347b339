/**
 * Which storage of an int8 model's weights a session loads on this CPU (see int8-weights.ts):
 * - x86 without VNNI: unsigned. Its u8s8 kernels saturate; u8u8 gives the exact int8 result.
 * - x86 with VNNI: signed. u8s8 is exact there and ran MiniLM 1.34x faster than u8u8 (300 mixed
 *   texts, 5 interleaved rounds: scripts/batch-invariance.ts).
 * - elsewhere (ARM): the file as exported (both are exact).
 * A model stored otherwise gets a copy beside it (`<file>.u8u8.onnx`, `<file>.u8s8.onnx`): the
 * same integers after the zero point, so the same vectors. `vectorizer warmup` writes both when
 * the image is built; a cold start without the one it needs writes it then.
 */
import { readFileSync, statSync } from 'node:fs';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import type { Int8Weights } from '../../config.ts';
import { shiftInt8Weights, type WeightStorage } from './int8-weights.ts';
import { externalDataOf } from './model-file.js';

/**
 * True where ONNX Runtime's u8s8 kernels add products in 16 bits and can saturate: x86 without
 * AVX-512 VNNI or AVX-VNNI (AVX2-only hosts, AVX-512 without VNNI). ARM's dot-product kernels
 * accumulate in 32 bits. Pure.
 * @example u8s8Saturates('x64', new Set(['avx2'])) // true
 */
export function u8s8Saturates(arch: string, flags: ReadonlySet<string>): boolean {
  return arch === 'x64' && !flags.has('avx512_vnni') && !flags.has('avx_vnni') && !flags.has('amx_int8');
}

/**
 * The weight storage to load for a setting on this CPU, or undefined for the file as exported.
 * Pure. @example preferredStorage('auto', 'x64', new Set(['avx2'])) // 'unsigned'
 */
export function preferredStorage(setting: Int8Weights, arch: string, flags: ReadonlySet<string>): WeightStorage | undefined {
  if (setting === 'exported') return undefined;
  if (setting !== 'auto') return setting;
  if (arch !== 'x64') return undefined;
  return u8s8Saturates(arch, flags) ? 'unsigned' : 'signed';
}

/** This CPU's feature flags (Linux's /proc/cpuinfo); empty where it cannot be read. */
export function cpuFlags(): Set<string> {
  try {
    const line = /^flags\s*:(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    return new Set(line ? line[1].trim().split(/\s+/) : []);
  } catch {
    return new Set();
  }
}

/**
 * Where a model's copy with weights stored `storage` lives.
 * @example storedCopyPath('/m/onnx/model_quantized.onnx', 'unsigned') // '/m/onnx/model_quantized.u8u8.onnx'
 */
export function storedCopyPath(modelPath: string, storage: WeightStorage): string {
  return `${modelPath.replace(/\.onnx$/i, '')}.${storage === 'unsigned' ? 'u8u8' : 'u8s8'}.onnx`;
}

/** Marks a model that has nothing to move to `storage`, so that later starts do not read it again. */
export const nothingToMovePath = (modelPath: string, storage: WeightStorage) => `${storedCopyPath(modelPath, storage)}.none`;

const fresh = (path: string, model: string) => {
  try {
    return statSync(path).mtimeMs >= statSync(model).mtimeMs;
  } catch {
    return false;
  }
};

export interface Int8Choice {
  /** The file sessions load. */
  readonly path: string;
  /** What was decided and why (logged at cold start, printed by warmup). */
  readonly note: string;
}

const NOTHING_TO_MOVE = 'nothing to move';

/**
 * Writes the model's copy with weights stored `storage` beside it (or, where the model's folder is
 * read-only, in the temporary folder) and returns its path and how many tensors moved; or why
 * there is none (a marker is left when there is nothing to move).
 */
export async function writeStoredCopy(
  modelPath: string,
  storage: WeightStorage,
): Promise<{ path: string; tensors: number } | { skipped: string }> {
  if (externalDataOf(modelPath)) return { skipped: 'its weights are in an external data file' };
  let outcome: ReturnType<typeof shiftInt8Weights>;
  try {
    outcome = shiftInt8Weights(await readFile(modelPath), storage);
  } catch (error) {
    // Not a graph this edit can read: the session's own load says what is wrong with it.
    return { skipped: `it could not be read as an ONNX graph (${(error as Error).message})` };
  }
  if ('skipped' in outcome) return outcome;
  if (outcome.tensors === 0) {
    await writeFile(nothingToMovePath(modelPath, storage), '').catch(() => undefined);
    return { skipped: `${NOTHING_TO_MOVE}: it has no int8 weights stored otherwise` };
  }
  const copy = storedCopyPath(modelPath, storage);
  for (const target of [copy, join(tmpdir(), `vectorizer-${process.pid}-${basename(copy)}`)]) {
    // Named per writer: processes starting at once on the same model each write their own, then rename.
    const partial = `${target}.${process.pid}-${Math.random().toString(36).slice(2)}.partial`;
    try {
      await writeFile(partial, outcome.model);
      await rename(partial, target);
      return { path: target, tensors: outcome.tensors };
    } catch {
      await rm(partial, { force: true }).catch(() => undefined);
    }
  }
  return { skipped: 'the copy could not be written' };
}

const WHY: Record<WeightStorage, string> = {
  unsigned: "this CPU's u8s8 kernels saturate (x86 without VNNI)",
  signed: 'VNNI runs u8s8 exactly and faster',
};

/** The file to load for `setting` on this CPU; see the module comment. */
export async function int8ModelFor(modelPath: string, setting: Int8Weights, arch: string, flags: ReadonlySet<string>): Promise<Int8Choice> {
  const storage = preferredStorage(setting, arch, flags);
  if (!storage) return { path: modelPath, note: setting === 'exported' ? 'as exported (ORT_INT8_WEIGHTS=exported)' : 'as exported' };
  const why = setting === 'auto' ? WHY[storage] : `ORT_INT8_WEIGHTS=${setting}`;
  const copy = storedCopyPath(modelPath, storage);
  if (fresh(copy, modelPath)) return { path: copy, note: `${storage} int8 weights (${why})` };
  if (fresh(nothingToMovePath(modelPath, storage), modelPath))
    return { path: modelPath, note: `as exported (already ${storage} or not int8)` };
  const started = performance.now();
  const written = await writeStoredCopy(modelPath, storage);
  if ('skipped' in written) return { path: modelPath, note: `as exported (${why}, but ${written.skipped})` };
  return {
    path: written.path,
    note: `${storage} int8 weights (${why}): ${written.tensors} tensors moved in ${Math.round(performance.now() - started)} ms at start; \`vectorizer warmup\` does it at build time`,
  };
}
