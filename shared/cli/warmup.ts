import sharp from 'sharp';
import { loadConfig } from '../config.ts';
import { toErrorBody, toVectorizerError } from '../errors.ts';
import type { ModelType } from '../models/types.ts';
import { handleEmbeddingRequest } from '../request/handle.ts';
import type { EmbeddingRequest } from '../request/schema.ts';
import { createRuntime } from '../runtime.ts';
import type { CliIo } from './io.ts';

/** One small request per model type, enough to run every part of the engine once. */
async function sampleRequest(type: ModelType): Promise<EmbeddingRequest> {
  switch (type) {
    case 'text':
    case 'sparse':
      return { messages: ['Serverless Vectorizer warm-up.', 'A second, slightly longer sentence to batch with the first.'] };
    case 'rerank':
      return { query: 'What is warm-up?', documents: ['Warm-up runs the model once.', 'Bananas are yellow.'] };
    case 'image': {
      const png = await sharp({ create: { width: 64, height: 48, channels: 3, background: { r: 200, g: 80, b: 30 } } })
        .png()
        .toBuffer();
      return { images: [{ base64: png.toString('base64') }] };
    }
  }
}

/**
 * `vectorizer warmup`: loads the configured model exactly as the Lambda does and serves one sample
 * request, so a broken model fails the image build instead of the first request.
 */
export async function runWarmup(_args: string[], io: CliIo): Promise<number> {
  try {
    const started = performance.now();
    const runtime = await createRuntime(loadConfig(io.env));
    const loaded = performance.now();
    const response = await handleEmbeddingRequest(await sampleRequest(runtime.spec.type), runtime.context);
    await runtime.dispose();
    io.stdout.write(
      `${JSON.stringify({ model_id: runtime.spec.id, model_type: runtime.spec.type, count: response.count, load_ms: Math.round(loaded - started), first_request_ms: Math.round(performance.now() - loaded) })}\n`,
    );
    return 0;
  } catch (error) {
    io.stderr.write(`${JSON.stringify(toErrorBody(toVectorizerError(error)))}\n`);
    return 1;
  }
}
