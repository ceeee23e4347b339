import * as ort from 'onnxruntime-node';
import type { InputTensor, OutputTensor, Session } from './session.ts';

/**
 * ONNX Runtime's session options (measurements: BENCHMARKS.md, "Session settings"):
 * - graph optimisation `all`: fuses attention, GELU and LayerNorm.
 * - sequential execution, one inter-op thread: encoders are one chain of operators, so parallel
 *   execution only adds scheduling cost.
 * - CPU memory arena and memory patterns on: turning the arena off made runs 5-10x slower.
 */
function sessionOptions(intraOpThreads: number): ort.InferenceSession.SessionOptions {
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

/** A session on the calling thread (used by the session thread itself, and with ORT_SESSION_THREAD=false). */
export async function openOrtSession(modelPath: string, intraOpThreads: number): Promise<Session> {
  const session = await ort.InferenceSession.create(modelPath, sessionOptions(intraOpThreads));
  return {
    inputNames: session.inputNames,
    outputNames: session.outputNames,
    async run(feeds: Readonly<Record<string, InputTensor>>, fetches: readonly string[]) {
      const tensors: Record<string, ort.Tensor> = {};
      for (const [name, input] of Object.entries(feeds)) tensors[name] = new ort.Tensor(input.type, input.data, input.dims);
      return (await session.run(tensors, fetches)) as unknown as Record<string, OutputTensor>;
    },
    release: () => session.release(),
  };
}
