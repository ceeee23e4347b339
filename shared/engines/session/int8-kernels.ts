/**
 * Which file of an int8 model a session loads on this CPU (see int8-weights.ts): where ONNX
 * Runtime's u8s8 kernels saturate (x86 without VNNI), the model with unsigned weights, which gives
 * the exact int8 result there; elsewhere the model as exported (u8s8 runs the VNNI kernels).
 * `vectorizer warmup` writes the unsigned file when the image is built; a cold start on such a CPU
 * without one writes it then.
 */
import { readFileSync, statSync } from 'node:fs';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import type { Int8Weights } from '../../config.ts';
import { shiftInt8Weights } from './int8-weights.ts';
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

/** This CPU's feature flags (Linux's /proc/cpuinfo); empty where it cannot be read. */
export function cpuFlags(): Set<string> {
  try {
    const line = /^flags\s*:(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    return new Set(line ? line[1].trim().split(/\s+/) : []);
  } catch {
    return new Set();
  }
}

/** Where a model's unsigned-weight copy lives. @example unsignedModelPath('/m/onnx/model_quantized.onnx') // '/m/onnx/model_quantized.u8u8.onnx' */
export function unsignedModelPath(modelPath: string): string {
  return `${modelPath.replace(/\.onnx$/i, '')}.u8u8.onnx`;
}

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

const NOTHING_TO_MOVE = 'it has no signed int8 weights';

/**
 * Writes the model's unsigned-weight copy beside it (or, where the model's folder is read-only,
 * in the temporary folder) and returns its path with how many tensors moved, or why there is none.
 */
export async function writeUnsignedModel(modelPath: string): Promise<{ path: string; tensors: number } | { skipped: string }> {
  if (externalDataOf(modelPath)) return { skipped: 'its weights are in an external data file' };
  const outcome = shiftInt8Weights(await readFile(modelPath), 'unsigned');
  if ('skipped' in outcome) return outcome;
  if (outcome.tensors === 0) return { skipped: NOTHING_TO_MOVE };
  for (const target of [
    unsignedModelPath(modelPath),
    join(tmpdir(), `vectorizer-${process.pid}-${basename(unsignedModelPath(modelPath))}`),
  ]) {
    const partial = `${target}.partial`;
    try {
      await writeFile(partial, outcome.model);
      await rename(partial, target);
      return { path: target, tensors: outcome.tensors };
    } catch {
      await rm(partial, { force: true }).catch(() => undefined);
    }
  }
  return { skipped: 'the unsigned copy could not be written' };
}

/** The file to load for `setting` on a CPU that does (or does not) saturate u8s8; see the module comment. */
export async function int8ModelFor(modelPath: string, setting: Int8Weights, saturates: boolean): Promise<Int8Choice> {
  if (setting === 'signed') return { path: modelPath, note: 'as exported (ORT_INT8_WEIGHTS=signed)' };
  if (setting === 'auto' && !saturates) return { path: modelPath, note: 'as exported: this CPU computes u8s8 exactly' };
  const why = setting === 'unsigned' ? 'ORT_INT8_WEIGHTS=unsigned' : "this CPU's u8s8 kernels saturate (x86 without VNNI)";
  const unsigned = unsignedModelPath(modelPath);
  if (fresh(unsigned, modelPath)) return { path: unsigned, note: `unsigned int8 weights (${why})` };
  // A model found to have nothing to move is marked, so later cold starts do not read it again.
  const nothing = `${unsigned}.none`;
  if (fresh(nothing, modelPath)) return { path: modelPath, note: `as exported (${why}, but it has no signed int8 weights)` };
  const started = performance.now();
  const written = await writeUnsignedModel(modelPath);
  if ('skipped' in written) {
    if (written.skipped === NOTHING_TO_MOVE) await writeFile(nothing, '').catch(() => undefined);
    return { path: modelPath, note: `as exported (${why}, but ${written.skipped})` };
  }
  return {
    path: written.path,
    note: `unsigned int8 weights (${why}): ${written.tensors} tensors moved in ${Math.round(performance.now() - started)} ms at cold start; \`vectorizer warmup\` does it at build time`,
  };
}
