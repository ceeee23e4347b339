/**
 * HTTP requests as Lambda Function URL events, for the places that serve this project's HTTP
 * routes without Lambda: the local stack's server and `vectorizer invoke --path`.
 */

/** A Function URL event (payload format 2.0) for an HTTP request, as Lambda builds it. */
export function functionUrlEvent(request: { method: string; url: string; headers: Record<string, string>; body: Buffer }) {
  const [path, query = ''] = request.url.split('?', 2);
  const text = request.body.toString('utf8');
  // Lambda passes a body that is not text as base64.
  const binary = !Buffer.from(text, 'utf8').equals(request.body);
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: path,
    rawQueryString: query,
    headers: request.headers,
    requestContext: {
      accountId: 'anonymous',
      apiId: 'local',
      domainName: 'localhost',
      stage: '$default',
      requestId: crypto.randomUUID(),
      timeEpoch: Date.now(),
      http: { method: request.method, path, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: request.headers['user-agent'] ?? '' },
    },
    body: binary ? request.body.toString('base64') : text,
    isBase64Encoded: binary,
  };
}
