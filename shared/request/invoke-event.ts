import type { APIGatewayProxyResult, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { InvalidRequestError, PayloadTooLargeError, toErrorBody, toVectorizerError, type VectorizerError } from '../errors.ts';
import { logger } from '../logger.ts';
import type { Services } from '../services.ts';
import { handleEmbeddingRequest } from './handle.ts';
import { type EmbeddingResponse, parseEmbeddingRequest } from './schema.ts';

/** The parts of an API Gateway (REST or HTTP API) or Function URL event the handler reads. */
interface HttpEvent {
  requestContext: Record<string, unknown>;
  body?: string | null;
  isBase64Encoded?: boolean;
  httpMethod?: string;
  rawPath?: string;
}

export type HttpResult = APIGatewayProxyResult | APIGatewayProxyStructuredResultV2;

/** True for API Gateway v1/v2 and Function URL events; a direct invoke payload is the request itself. */
export function isHttpEvent(event: unknown): event is HttpEvent {
  if (typeof event !== 'object' || event === null) return false;
  const candidate = event as Record<string, unknown>;
  return (
    typeof candidate.requestContext === 'object' &&
    candidate.requestContext !== null &&
    ('httpMethod' in candidate || 'rawPath' in candidate || 'routeKey' in candidate)
  );
}

function httpMethodOf(event: HttpEvent): string {
  const http = (event.requestContext as { http?: { method?: string } }).http;
  return (event.httpMethod ?? http?.method ?? 'POST').toUpperCase();
}

/** The JSON body of an HTTP event, decoded from base64 when the event says so. */
export function bodyOf(event: HttpEvent, maxBytes: number): unknown {
  const raw = event.body ?? '';
  // Buffer.from(..., 'base64') skips what is not base64 and may give nothing: say what was wrong.
  if (event.isBase64Encoded && raw.trim() && !/^[A-Za-z0-9+/_-]*={0,2}$/.test(raw.replace(/\s/g, ''))) {
    throw new InvalidRequestError('The request body is marked base64 (isBase64Encoded) but is not valid base64.');
  }
  const text = event.isBase64Encoded ? Buffer.from(raw, 'base64').toString('utf8') : raw;
  if (Buffer.byteLength(text) > maxBytes) {
    throw new PayloadTooLargeError(`The request body is ${Buffer.byteLength(text)} bytes; the limit is ${maxBytes} (MAX_INPUT_BYTES).`);
  }
  if (!text.trim()) throw new InvalidRequestError('The request body is empty: send a JSON object such as {"messages": ["Hello world"]}.');
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw new InvalidRequestError(`The request body is not valid JSON (${(cause as Error).message}).`, { cause });
  }
}

function logFailure(error: VectorizerError): void {
  if (error.isClientError) logger.warn('request rejected', { code: error.code, reason: error.message });
  else logger.error('request failed', { code: error.code, error: (error.cause as Error | undefined) ?? error });
}

function jsonResult(statusCode: number, body: unknown): HttpResult {
  return { statusCode, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
}

/**
 * Serves an invocation. A direct invoke returns the response, or throws the error (Lambda then
 * reports a function error whose `errorType` names it); an HTTP event always gets an HTTP answer.
 */
export async function handleInvokeEvent(
  event: unknown,
  services: Pick<Services, 'config' | 'engine' | 's3' | 'index'>,
): Promise<EmbeddingResponse | HttpResult> {
  if (!isHttpEvent(event)) {
    try {
      return await handleEmbeddingRequest(parseEmbeddingRequest(event), services);
    } catch (error) {
      const failure = toVectorizerError(error);
      logFailure(failure);
      // Unexpected faults were wrapped in InternalError, whose message says only "see the log".
      throw failure;
    }
  }
  try {
    const method = httpMethodOf(event);
    if (method !== 'POST') {
      return jsonResult(405, { error: { code: 'METHOD_NOT_ALLOWED', message: `Use POST with a JSON body, not ${method}.`, status: 405 } });
    }
    const response = await handleEmbeddingRequest(parseEmbeddingRequest(bodyOf(event, services.config.limits.maxInputBytes)), services);
    return jsonResult(200, response);
  } catch (error) {
    const failure = toVectorizerError(error);
    logFailure(failure);
    return jsonResult(failure.statusCode, toErrorBody(failure));
  }
}
