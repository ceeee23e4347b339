import { readFile } from 'node:fs/promises';
import { describeFailure, InvalidRequestError, toErrorBody, toVectorizerError } from '../errors.ts';
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

/**
 * `vectorizer invoke --payload FILE|-`: builds the invoke handler as functions/invoke.ts does (the
 * same environment variables, read from the command's environment), runs one event, prints the JSON.
 * Exit code 0 on success, 1 with an error JSON on failure, 2 on a usage error.
 */
export async function runInvoke(args: string[], io: CliIo): Promise<number> {
  const values = parseOptions(args, { payload: { type: 'string', short: 'p' } }, io);
  if (!values) return 2;
  const payloadPath = values.payload as string | undefined;
  if (!payloadPath) {
    io.stderr.write('vectorizer invoke: --payload FILE (or - for stdin) is required.\n');
    return 2;
  }
  try {
    const text = payloadPath === '-' ? await readAll(io.stdin) : await readFile(payloadPath, 'utf8');
    let event: unknown;
    try {
      event = JSON.parse(text);
    } catch (cause) {
      throw new InvalidRequestError(`--payload ${payloadPath} is not valid JSON (${(cause as Error).message}).`);
    }
    // What functions/invoke.ts does at a cold start, from the environment this command was given
    // (io.env, which tests and embedding programs set) rather than the process's.
    const { loadConfig } = await import('../config.ts');
    const { createServices } = await import('../services.ts');
    const creating = createServices(loadConfig(io.env));
    const { createInvokeHandler } = await import('../invoke-handler.ts');
    const services = await creating;
    const handler = createInvokeHandler(services);
    const result = await handler(event, localContext('vectorizer-invoke') as never).finally(() => services.dispose());
    io.stdout.write(`${JSON.stringify(result)}\n`);
    // An HTTP-shaped event answers with a status code instead of throwing.
    const status = (result as { statusCode?: unknown }).statusCode;
    return typeof status === 'number' && status >= 400 ? 1 : 0;
  } catch (error) {
    // The body is the result (stdout); what went wrong, causes included, is for the person (stderr).
    io.stderr.write(`vectorizer invoke: ${describeFailure(error)}\n`);
    io.stdout.write(`${JSON.stringify(toErrorBody(toVectorizerError(error)))}\n`);
    return 1;
  }
}
