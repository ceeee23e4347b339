import * as ort from 'onnxruntime-node';
import { modelFileToLoad } from './model-file.js';
import { ortSessionOptions } from './ort-options.ts';
import type { InputTensor, OutputTensor, Session, SessionOptions } from './types.ts';

/** A session on this thread (ORT_SESSION_THREAD=false): each run blocks the event loop while it lasts. */
export async function openOrtSession(modelPath: string, settings: Pick<SessionOptions, 'intraOpThreads' | 'spinning'>): Promise<Session> {
  const session = await ort.InferenceSession.create(modelFileToLoad(modelPath, ort.env.versions.node ?? ''), ortSessionOptions(settings));
  return {
    inputNames: session.inputNames,
    outputNames: session.outputNames,
    shapes: Object.fromEntries(
      [...session.inputMetadata, ...session.outputMetadata].flatMap((value) => (value.isTensor ? [[value.name, value.shape]] : [])),
    ),
    parallelism: 1,
    async run(feeds: Readonly<Record<string, InputTensor>>, fetches: readonly string[]) {
      const tensors: Record<string, ort.Tensor> = {};
      for (const [name, input] of Object.entries(feeds)) tensors[name] = new ort.Tensor(input.type, input.data, input.dims);
      return (await session.run(tensors, fetches)) as unknown as Record<string, OutputTensor>;
    },
    release: () => session.release(),
  };
}
