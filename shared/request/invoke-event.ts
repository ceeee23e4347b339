import type { APIGatewayProxyResult, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import {
  InvalidRequestError,
  MethodNotAllowedError,
  PayloadTooLargeError,
  toErrorBody,
  toVectorizerError,
  type VectorizerError,
} from '../errors.ts';
import { logger } from '../logger.ts';
import type { MetricsRecorder } from '../metrics.ts';
import type { Services } from '../services.ts';
import { checkApiKey } from './api-key.ts';
import { handleEmbeddingRequest } from './handle.ts';
import { handleOpenAIEmbeddings, listOpenAIModels, openAIError } from './openai.ts';
import { apiOf, type EventLocation, type HttpAnswer, pathOf, ROUTES, type RouteName, routeOf } from './routes.ts';
import { type EmbeddingResponse, parseEmbeddingRequest } from './schema.ts';
import { handleTeiEmbed, handleTeiEmbedSparse, handleTeiRerank, teiError, teiInfo } from './tei.ts';

/** The parts of an API Gateway (REST or HTTP API) or Function URL event the handler reads. */
interface HttpEvent {
  requestContext: Record<string, unknown>;
  body?: string | null;
  isBase64Encoded?: boolean;
  httpMethod?: string;
  rawPath?: string;
  path?: string;
  headers?: Record<string, string | undefined> | null;
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
export function bodyOf(event: HttpEvent, maxBytes: number, example = '{"messages": ["Hello world"]}'): unknown {
  const raw = event.body ?? '';
  // Buffer.from(..., 'base64') skips what is not base64 and may give nothing: say what was wrong.
  if (event.isBase64Encoded && raw.trim() && !/^[A-Za-z0-9+/_-]*={0,2}$/.test(raw.replace(/\s/g, ''))) {
    throw new InvalidRequestError('The request body is marked base64 (isBase64Encoded) but is not valid base64.');
  }
  const text = event.isBase64Encoded ? Buffer.from(raw, 'base64').toString('utf8') : raw;
  if (Buffer.byteLength(text) > maxBytes) {
    throw new PayloadTooLargeError(`The request body is ${Buffer.byteLength(text)} bytes; the limit is ${maxBytes} (MAX_INPUT_BYTES).`);
  }
  if (!text.trim()) throw new InvalidRequestError(`The request body is empty: send a JSON object such as ${example}.`);
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw new InvalidRequestError(`The request body is not valid JSON (${(cause as Error).message}).`, { cause });
  }
}

function logFailure(error: VectorizerError, metrics: MetricsRecorder | undefined): void {
  metrics?.count('RequestErrors');
  metrics?.errorCode(error.code);
  if (error.isClientError) logger.warn('request rejected', { code: error.code, reason: error.message });
  else logger.error('request failed', { code: error.code, error: (error.cause as Error | undefined) ?? error });
}

function toHttpResult(answer: HttpAnswer): HttpResult {
  return {
    statusCode: answer.status,
    headers: { 'content-type': 'application/json', ...answer.headers },
    body: JSON.stringify(answer.body),
  };
}

type RequestServicesWithEngine = Pick<Services, 'config' | 'engine' | 's3' | 'index'> & { readonly metrics?: MetricsRecorder };

/** Each route's answer to a well-formed call (errors are shaped by errorAnswerFor). */
async function answerRoute(route: RouteName, event: HttpEvent, services: RequestServicesWithEngine): Promise<HttpAnswer> {
  const body = (example: string) => bodyOf(event, services.config.limits.maxInputBytes, example);
  switch (route) {
    case 'invoke':
      return { status: 200, body: await handleEmbeddingRequest(parseEmbeddingRequest(body('{"messages": ["Hello world"]}')), services) };
    case 'openaiEmbeddings':
      return handleOpenAIEmbeddings(body('{"model": "<model id>", "input": ["Hello world"]}'), services);
    case 'openaiModels':
      return listOpenAIModels(services.engine.spec);
    case 'teiEmbed':
      return handleTeiEmbed(body('{"inputs": ["Hello world"]}'), services);
    case 'teiEmbedSparse':
      return handleTeiEmbedSparse(body('{"inputs": ["Hello world"]}'), services);
    case 'teiRerank':
      return handleTeiRerank(body('{"query": "...", "texts": ["...", "..."]}'), services);
    case 'teiInfo':
      return teiInfo(services.engine.spec, services.config.limits);
    case 'health':
      return { status: 200, body: { status: 'ok', model_id: services.engine.spec.id } };
  }
}

/** Errors in the shape the route's clients parse: OpenAI's, TEI's, or this project's. */
function errorAnswerFor(route: RouteName): (failure: VectorizerError) => HttpAnswer {
  const api = apiOf(route);
  if (api === 'openai') return openAIError;
  if (api === 'tei') return teiError;
  return (failure) => ({ status: failure.statusCode, body: toErrorBody(failure) });
}

/**
 * Serves an invocation. A direct invoke returns the response, or throws the error (Lambda then
 * reports a function error whose `errorType` names it); an HTTP event always gets an HTTP answer,
 * from the route its path ends with (routes.ts).
 */
export async function handleInvokeEvent(event: unknown, services: RequestServicesWithEngine): Promise<EmbeddingResponse | HttpResult> {
  services.metrics?.count('Requests');
  if (!isHttpEvent(event)) {
    try {
      return await handleEmbeddingRequest(parseEmbeddingRequest(event), services);
    } catch (error) {
      const failure = toVectorizerError(error);
      logFailure(failure, services.metrics);
      // Unexpected faults were wrapped in InternalError, whose message says only "see the log".
      throw failure;
    }
  }
  const path = pathOf(event as EventLocation);
  const route = routeOf(path);
  try {
    if (route !== 'health') checkApiKey(event.headers, services.config.api);
    const method = httpMethodOf(event);
    const expected = route === 'invoke' ? 'POST' : ROUTES[route].method;
    if (method !== expected) {
      throw new MethodNotAllowedError(
        route === 'invoke' ? `Use POST with a JSON body, not ${method}.` : `Use ${expected} ${path}, not ${method}.`,
      );
    }
    return toHttpResult(await answerRoute(route, event, services));
  } catch (error) {
    const failure = toVectorizerError(error);
    logFailure(failure, services.metrics);
    return toHttpResult(errorAnswerFor(route)(failure));
  }
}
