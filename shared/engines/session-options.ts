import type { InferenceSession } from 'onnxruntime-node';
import type { SessionOptions } from './session.ts';

/**
 * ONNX Runtime's session options (measurements: BENCHMARKS.md, "Session settings"):
 * - graph optimisation `all`: fuses attention, GELU and LayerNorm.
 * - sequential execution, one inter-op thread: encoders are one chain of operators, so parallel
 *   execution only adds scheduling cost.
 * - CPU memory arena and memory patterns on: turning the arena off made runs 5-10x slower;
 *   memory patterns off changed nothing, on repeated or on new shapes.
 * - intra-op spinning off by default (`ORT_INTRA_OP_SPINNING`): idle pool threads otherwise
 *   spin-wait after each run and while the session is created, taking a core from this process's
 *   own work (imports at cold start, tokenising, pooling, image decoding, S3 I/O) on a 2-vCPU
 *   Lambda: creation used 79 ms of CPU instead of 113 for the same 71 ms, and model runs were no
 *   slower (1.01-1.02x the spinning default).
 */
export function ortSessionOptions(settings: Omit<SessionOptions, 'thread'>): InferenceSession.SessionOptions {
  return {
    executionProviders: ['cpu'],
    graphOptimizationLevel: 'all',
    intraOpNumThreads: settings.intraOpThreads,
    executionMode: 'sequential',
    interOpNumThreads: 1,
    enableCpuMemArena: true,
    enableMemPattern: true,
    extra: { session: { intra_op: { allow_spinning: settings.spinning ? '1' : '0' } } },
  };
}
