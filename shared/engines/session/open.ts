import { openThreadedSession } from './on-thread.ts';
import { openSessionPool } from './pool.ts';
import type { Session, SessionOptions } from './types.ts';

/**
 * Opens one ONNX Runtime session. One per process: sessions are expensive to create (graph
 * optimisation, weight prepacking) and cheap to reuse.
 */
export async function createSession(modelPath: string, options: SessionOptions): Promise<Session> {
  // The thread starts in this call (no dynamic import to wait for); onnxruntime-node itself loads there.
  if (options.thread && options.sessions > 1) return openSessionPool(modelPath, options);
  if (options.thread) return openThreadedSession(modelPath, options);
  return (await import('./in-process.ts')).openOrtSession(modelPath, options);
}
