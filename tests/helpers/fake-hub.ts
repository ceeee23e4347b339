import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readFileSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

/**
 * A local server that serves model folders the way the Hugging Face hub does:
 * `GET /<org>/<name>/resolve/<revision>/<file>` -> the file (content-length set), 404 otherwise.
 * `repos` maps a repository id to a local folder.
 */
export async function startFakeHub(
  repos: Record<string, string>,
  options: { lfsSha256?: (file: string, actual: string) => string } = {},
): Promise<{ url: string; requests: string[]; stop(): Promise<void> }> {
  const requests: string[] = [];
  const server = createServer((request, response) => {
    const path = decodeURIComponent(request.url ?? '');
    requests.push(path);
    const match = /^\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(path);
    const folder = match ? repos[match[1]] : undefined;
    const file = folder && match ? join(folder, match[3]) : undefined;
    if (!file || !existsSync(file) || !statSync(file).isFile()) {
      response.writeHead(404, { 'content-type': 'text/plain' });
      response.end('Entry not found');
      return;
    }
    // Like the hub: LFS files (the ONNX weights) carry their sha256 as x-linked-etag; every file the commit.
    const headers: Record<string, string | number> = {
      'content-length': statSync(file).size,
      'content-type': 'application/octet-stream',
      'x-repo-commit': 'c0ffee'.padEnd(40, '0'),
    };
    if (file.endsWith('.onnx')) {
      const actual = createHash('sha256').update(readFileSync(file)).digest('hex');
      headers['x-linked-etag'] = `"${options.lfsSha256 ? options.lfsSha256(match![3], actual) : actual}"`;
    }
    response.writeHead(200, headers);
    createReadStream(file).pipe(response);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, requests, stop: () => new Promise((resolve) => server.close(() => resolve())) };
}
