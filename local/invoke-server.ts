import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '@aws-lambda-powertools/logger';
import { functionUrlEvent } from '../shared/request/function-url-event.ts';

/** Lambda's synchronous invocation payload limit. */
const MAX_PAYLOAD_BYTES = 6 * 1024 * 1024;
const INVOKE_PATH = /^\/2015-03-31\/functions\/([^/]+)\/invocations\/?$/;

export type LocalFunction = (event: unknown, context: unknown) => Promise<unknown>;

function send(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  response.writeHead(status, { 'content-type': 'application/json', ...headers });
  response.end(JSON.stringify(body));
}

async function readBody(request: IncomingMessage): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > MAX_PAYLOAD_BYTES) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** What the Lambda runtime reports for a thrown error. */
export function functionErrorBody(error: unknown): { errorType: string; errorMessage: string; trace: string[] } {
  const failure = error instanceof Error ? error : new Error(String(error));
  return { errorType: failure.name, errorMessage: failure.message, trace: [] };
}

/** The parts of a Function URL answer the server writes back. */
interface UrlResult {
  statusCode?: number;
  headers?: Record<string, string | number | boolean>;
  body?: string;
  isBase64Encoded?: boolean;
}

async function serveFunctionUrl(request: IncomingMessage, response: ServerResponse, fn: LocalFunction): Promise<void> {
  const body = await readBody(request);
  // A Function URL refuses a payload over 6 MB with 413 before the function runs.
  if (!body) return send(response, 413, { Message: `Request payload exceeds ${MAX_PAYLOAD_BYTES} bytes.` });
  const headers = Object.fromEntries(
    Object.entries(request.headers).flatMap(([name, value]) =>
      value === undefined ? [] : [[name, Array.isArray(value) ? value.join(',') : value]],
    ),
  );
  let result: UrlResult;
  try {
    result = (await fn(functionUrlEvent({ method: request.method ?? 'GET', url: request.url ?? '/', headers, body }), {
      functionName: 'function',
      awsRequestId: crypto.randomUUID(),
      getRemainingTimeInMillis: () => 900_000,
    })) as UrlResult;
  } catch (error) {
    // A function error reaches a Function URL caller as 502.
    return send(response, 502, { Message: 'Internal Server Error', errorMessage: (error as Error).message });
  }
  const status = typeof result?.statusCode === 'number' ? result.statusCode : 200;
  const payload =
    typeof result?.body === 'string'
      ? Buffer.from(result.body, result.isBase64Encoded ? 'base64' : 'utf8')
      : Buffer.from(JSON.stringify(result ?? null));
  response.writeHead(status, {
    'content-type': 'application/json',
    ...Object.fromEntries(Object.entries(result?.headers ?? {}).map(([k, v]) => [k, String(v)])),
  });
  response.end(payload);
}

/**
 * The Lambda Invoke API on loopback (`POST /2015-03-31/functions/{name}/invocations`), so the
 * seed's curl examples and `aws lambda invoke --endpoint-url` work. A thrown error answers 200 with
 * `X-Amz-Function-Error: Unhandled`, as Lambda does.
 */
export async function startInvokeServer(options: {
  port: number;
  host?: string;
  functions: Readonly<Record<string, LocalFunction>>;
  /** Serves every other path as a Lambda Function URL would (the OpenAI and TEI routes). */
  functionUrl?: LocalFunction;
  logger: Logger;
}): Promise<{ server: Server; url: string; stop(): Promise<void> }> {
  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const match = INVOKE_PATH.exec(request.url?.split('?')[0] ?? '');
    if (!match && options.functionUrl) return serveFunctionUrl(request, response, options.functionUrl);
    if (!match)
      return send(response, 404, {
        Type: 'User',
        message: `Unknown path ${request.url}; use POST /2015-03-31/functions/function/invocations.`,
      });
    if (request.method !== 'POST') return send(response, 405, { Type: 'User', message: 'Use POST.' });
    let name: string;
    try {
      name = decodeURIComponent(match[1]);
    } catch {
      return send(response, 400, { Type: 'User', message: `The function name in ${request.url} is not valid percent-encoding.` });
    }
    // Own properties only: `constructor` or `__proto__` name no function.
    const fn = Object.hasOwn(options.functions, name) ? options.functions[name] : undefined;
    if (!fn) {
      return send(
        response,
        404,
        { Type: 'User', message: `Function not found: ${name}. Known: ${Object.keys(options.functions).join(', ')}.` },
        { 'x-amzn-errortype': 'ResourceNotFoundException' },
      );
    }
    const body = await readBody(request);
    if (!body)
      return send(
        response,
        413,
        { Type: 'User', message: `Request payload exceeds ${MAX_PAYLOAD_BYTES} bytes.` },
        { 'x-amzn-errortype': 'RequestTooLargeException' },
      );
    let event: unknown;
    try {
      event = body.length ? JSON.parse(body.toString('utf8')) : {};
    } catch {
      return send(
        response,
        400,
        { Type: 'User', message: 'Could not parse request body into json.' },
        { 'x-amzn-errortype': 'InvalidRequestContentException' },
      );
    }
    try {
      const result = await fn(event, { functionName: name, awsRequestId: crypto.randomUUID(), getRemainingTimeInMillis: () => 900_000 });
      send(response, 200, result ?? null, { 'x-amz-executed-version': '$LATEST' });
    } catch (error) {
      send(response, 200, functionErrorBody(error), { 'x-amz-function-error': 'Unhandled', 'x-amz-executed-version': '$LATEST' });
    }
  }

  // Nothing a client sends (or fails to send: a disconnect mid-body) may take the stack down: a
  // request that fails outside the function gets an answer if it can still have one, else is dropped.
  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      options.logger.warn('invoke request failed', { url: request.url, reason: (error as Error).message });
      if (!response.headersSent && !response.destroyed)
        send(response, 400, { Type: 'User', message: `The request failed: ${(error as Error).message}` });
      else response.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.address() as AddressInfo;
  return {
    server,
    url: `http://${address.address}:${address.port}`,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
