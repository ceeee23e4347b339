import type { InferenceSession } from 'onnxruntime-node';

/**
 * ONNX Runtime's session options (measurements: BENCHMARKS.md, "Session settings"):
 * - graph optimisation `all`: fuses attention, GELU and LayerNorm.
 * - sequential execution, one inter-op thread: encoders are one chain of operators, so parallel
 *   execution only adds scheduling cost.
 * - CPU memory arena and memory patterns on: turning the arena off made runs 5-10x slower.
 */
export function ortSessionOptions(intraOpThreads: number): InferenceSession.SessionOptions {
  return {
    executionProviders: ['cpu'],
    graphOptimizationLevel: 'all',
    intraOpNumThreads: intraOpThreads,
    executionMode: 'sequential',
    interOpNumThreads: 1,
    enableCpuMemArena: true,
    enableMemPattern: true,
  };
}
