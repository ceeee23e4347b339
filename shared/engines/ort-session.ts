import * as ort from 'onnxruntime-node';
import type { InputTensor, OutputTensor, Session } from './session.ts';
import { ortSessionOptions } from './session-options.ts';

/** A session on this thread (ORT_SESSION_THREAD=false): each run blocks the event loop while it lasts. */
export async function openOrtSession(modelPath: string, intraOpThreads: number): Promise<Session> {
  const session = await ort.InferenceSession.create(modelPath, ortSessionOptions(intraOpThreads));
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
