import type { S3Client } from '@aws-sdk/client-s3';
import { type Env, loadConfig } from '../../shared/config.ts';
import { handleInvokeEvent } from '../../shared/request/invoke-event.ts';
import {
  type DenseResponse,
  denseResponseSchema,
  type RerankResponse,
  rerankResponseSchema,
  type SparseResponse,
  sparseResponseSchema,
} from '../../shared/request/schema.ts';
import { createServices, type Services } from '../../shared/services.ts';

/** The services built from an explicit environment (never process.env), as a cold start would build it. */
export async function servicesFor(env: Env, options: { s3?: S3Client } = {}): Promise<Services> {
  return createServices(loadConfig({ ORT_INTRA_OP_THREADS: '2', ...env }), options);
}

/** Sends one direct-invoke payload through the same path as the Lambda handler. */
export async function invoke<T = Record<string, unknown>>(services: Services, payload: unknown): Promise<T> {
  return (await handleInvokeEvent(payload, services)) as T;
}

/** A direct invoke whose response must match the dense response schema (text and image models). */
export async function invokeDense(services: Services, payload: unknown): Promise<DenseResponse> {
  return denseResponseSchema.parse(await handleInvokeEvent(payload, services));
}

/** A direct invoke whose response must match the sparse response schema. */
export async function invokeSparse(services: Services, payload: unknown): Promise<SparseResponse> {
  return sparseResponseSchema.parse(await handleInvokeEvent(payload, services));
}

/** A direct invoke whose response must match the rerank response schema. */
export async function invokeRerank(services: Services, payload: unknown): Promise<RerankResponse> {
  return rerankResponseSchema.parse(await handleInvokeEvent(payload, services));
}
