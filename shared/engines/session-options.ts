import type { InferenceSession } from 'onnxruntime-node';
import type { SessionOptions } from './session.ts';

/**
 * ONNX Runtime's session options (measurements: BENCHMARKS.md, "Session settings"):
 * - graph optimisation `all`: fuses attention, GELU and LayerNorm.
 * - sequential execution, one inter-op thread: encoders are one chain of operators, so parallel
 *   execution only adds scheduling cost.
 * - CPU memory arena and memory patterns on: turning the arena off made runs 5-10x slower.
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
