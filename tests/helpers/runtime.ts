import type { S3Client } from '@aws-sdk/client-s3';
import { type Env, loadConfig } from '../../shared/config.ts';
import { handleInvokeEvent } from '../../shared/request/invoke-event.ts';
import { createRuntime, type Runtime } from '../../shared/runtime.ts';

/** A runtime built from an explicit environment (never process.env), as a cold start would build it. */
export async function runtimeFor(env: Env, options: { s3?: S3Client } = {}): Promise<Runtime> {
  return createRuntime(loadConfig({ ORT_INTRA_OP_THREADS: '2', ...env }), options);
}

/** Sends one direct-invoke payload through the same path as the Lambda handler. */
export async function invoke<T = Record<string, unknown>>(runtime: Runtime, payload: unknown): Promise<T> {
  return (await handleInvokeEvent(payload, runtime.context)) as T;
}
