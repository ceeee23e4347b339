import type { InferenceSession } from 'onnxruntime-node';
import type { SessionOptions } from './types.ts';

/**
 * ONNX Runtime's session options (measurements: BENCHMARKS.md, "Session settings"):
 * - graph optimisation `all`: fuses attention, GELU and LayerNorm.
 * - sequential execution, one inter-op thread: encoders are one chain of operators, so parallel
 *   execution only adds scheduling cost.
 * - CPU memory arena on: turning it off made runs 5-10x slower.
 * - memory patterns off: a pattern pre-plans one block per input shape, and with two sessions
 *   in flight the peak RSS of a 64-text MiniLM int8 request was 407 MB with them, 351 MB without;
 *   speed 0.99x (int8) and 1.01x (fp32), 300 texts, 7 interleaved rounds (first runs of new
 *   shapes were the same with and without in an earlier measurement).
 * - intra-op spinning on (`ORT_INTRA_OP_SPINNING`, ONNX Runtime's default): with it off, pool
 *   threads sleep between the operators of a run and the session thread's runs were 1.10-1.17x
 *   slower (MiniLM dense and cross-encoder; SPLADE and CLIP unchanged). Off saves CPU while the
 *   session is created (79 ms instead of 113 for the same 71 ms) and lets other work have the
 *   core between runs; cold starts were about 0.1x of the floor's shorter.
 */
export function ortSessionOptions(settings: Pick<SessionOptions, 'intraOpThreads' | 'spinning'>): InferenceSession.SessionOptions {
  return {
    executionProviders: ['cpu'],
    graphOptimizationLevel: 'all',
    intraOpNumThreads: settings.intraOpThreads,
    executionMode: 'sequential',
    interOpNumThreads: 1,
    enableCpuMemArena: true,
    enableMemPattern: false,
    extra: { session: { intra_op: { allow_spinning: settings.spinning ? '1' : '0' } } },
  };
}
