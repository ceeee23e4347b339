import * as ort from 'onnxruntime-node';

export interface SessionOptions {
  /** Threads inside one operator; Lambda gives about one vCPU per 1769 MB, so this follows the host. */
  readonly intraOpThreads: number;
}

export type Session = ort.InferenceSession;
export type Tensor = ort.Tensor;
export const { Tensor: OrtTensor } = ort;

/**
 * Opens one ONNX Runtime session. One per process: sessions are expensive to create (graph
 * optimisation, weight prepacking), cheap to reuse, and `run` is safe to call concurrently.
 */
export async function createSession(modelPath: string, options: SessionOptions): Promise<Session> {
  return ort.InferenceSession.create(modelPath, {
    executionProviders: ['cpu'],
    graphOptimizationLevel: 'all',
    intraOpNumThreads: options.intraOpThreads,
    // Encoder models are one chain of operators; parallel execution only adds scheduling cost.
    executionMode: 'sequential',
    interOpNumThreads: 1,
    enableCpuMemArena: true,
    enableMemPattern: true,
  });
}

/** An int64 `[rows, cols]` tensor from a filled BigInt64Array. */
export function int64Tensor(data: BigInt64Array, rows: number, cols: number): Tensor {
  return new ort.Tensor('int64', data, [rows, cols]);
}
