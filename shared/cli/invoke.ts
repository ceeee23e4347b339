import { readFile } from 'node:fs/promises';
import { describeFailure, InvalidRequestError, toErrorBody, toVectorizerError } from '../errors.ts';
import { functionUrlEvent } from '../request/function-url-event.ts';
import { type CliIo, readAll } from './io.ts';
import { parseOptions } from './options.ts';

/** A Lambda-like context for in-process runs; Powertools reads these fields. */
function localContext(functionName: string) {
  return {
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:local:000000000000:function:${functionName}`,
    memoryLimitInMB: '1024',
    awsRequestId: crypto.randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'local',
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => 900_000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

function parsePayload(text: string, payloadPath: string): unknown {
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw new InvalidRequestError(`--payload ${payloadPath} is not valid JSON (${(cause as Error).message}).`);
  }
}

/** A GET without a payload (`--path /info`), else a POST of the payload. */
function httpEvent(route: string, body: string) {
  return functionUrlEvent({
    method: body ? 'POST' : 'GET',
    url: route,
    headers: { 'content-type': 'application/json' },
    body: Buffer.from(body),
  });
}

/**
 * `vectorizer invoke --payload FILE|- [--path /v1/embeddings]`: builds the invoke handler as functions/invoke.ts does (the
 * same environment variables, read from the command's environment), runs one event, prints the JSON.
 * Exit code 0 on success, 1 with an error JSON on failure, 2 on a usage error.
 */
export async function runInvoke(args: string[], io: CliIo): Promise<number> {
  const values = parseOptions(args, { payload: { type: 'string', short: 'p' }, path: { type: 'string' } }, io);
  if (!values) return 2;
  const payloadPath = values.payload as string | undefined;
  const route = values.path as string | undefined;
  if (!payloadPath && !route) {
    io.stderr.write('vectorizer invoke: --payload FILE (or - for stdin) is required.\n');
    return 2;
  }
  if (route !== undefined && !route.startsWith('/')) {
    io.stderr.write(`vectorizer invoke: --path must start with / (e.g. /v1/embeddings), not ${JSON.stringify(route)}.\n`);
    return 2;
  }
  try {
    const text = payloadPath === undefined ? '' : payloadPath === '-' ? await readAll(io.stdin) : await readFile(payloadPath, 'utf8');
    // With --path the payload is the body of an HTTP call to that route (OpenAI, TEI, or this
    // project's schema at /), sent as the Function URL event Lambda would build.
    const event = route === undefined ? parsePayload(text, payloadPath as string) : httpEvent(route, text);
    // What functions/invoke.ts does at a cold start, from the environment this command was given
    // (io.env, which tests and embedding programs set) rather than the process's.
    const { loadConfig } = await import('../config.ts');
    const { createServices } = await import('../services.ts');
    const creating = createServices(loadConfig(io.env));
    const { createInvokeHandler } = await import('../invoke-handler.ts');
    const services = await creating;
    const handler = await createInvokeHandler(services);
    const result = await handler(event, localContext('vectorizer-invoke') as never).finally(() => services.dispose());
    // An HTTP-shaped event answers with a status code instead of throwing.
    const status = (result as { statusCode?: unknown }).statusCode;
    // With --path the result is the HTTP body, as a client of that route would read it.
    io.stdout.write(`${route === undefined ? JSON.stringify(result) : (result as { body: string }).body}\n`);
    return typeof status === 'number' && status >= 400 ? 1 : 0;
  } catch (error) {
    // The body is the result (stdout); what went wrong, causes included, is for the person (stderr).
    io.stderr.write(`vectorizer invoke: ${describeFailure(error)}\n`);
    io.stdout.write(`${JSON.stringify(toErrorBody(toVectorizerError(error)))}\n`);
    return 1;
  }
}
