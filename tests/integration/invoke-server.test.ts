/**
 * The local Invoke API survives whatever a client sends: a disconnect mid-body, a malformed escape
 * in the function name, a name that exists only on Object.prototype.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startInvokeServer } from '../../local/invoke-server.ts';
import { logger } from '../../shared/logger.ts';
import { REPO_DIR } from '../helpers/shared-dir.ts';

describe('local Invoke API: hostile requests', () => {
  let server: Awaited<ReturnType<typeof startInvokeServer>>;
  before(async () => {
    server = await startInvokeServer({ port: 0, functions: { function: async (event) => ({ echo: event }) }, logger });
  });
  after(async () => {
    await server?.stop();
  });

  const invoke = (path: string, body = '{"a": 1}') => fetch(`${server.url}${path}`, { method: 'POST', body });

  test('a client that disconnects mid-body does not take the server (in a process of its own) down', async () => {
    // The server runs in its own process, as under `npm start`: an unhandled rejection there would end it.
    const dir = await mkdtemp(join(tmpdir(), 'vectorizer-invoke-server-'));
    const script = join(dir, 'server.ts');
    await writeFile(
      script,
      `import { startInvokeServer } from ${JSON.stringify(join(REPO_DIR, 'local', 'invoke-server.ts'))};
       import { logger } from ${JSON.stringify(join(REPO_DIR, 'shared', 'logger.ts'))};
       const server = await startInvokeServer({ port: 0, functions: { function: async (event) => ({ echo: event }) }, logger });
       process.stdout.write(server.url + '\\n');`,
    );
    const child = spawn(process.execPath, [script], {
      env: { ...process.env, POWERTOOLS_LOG_LEVEL: 'ERROR' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        child.stdout.once('data', (chunk) => resolve(String(chunk).trim()));
        child.once('exit', (code) => reject(new Error(`the server exited with ${code}`)));
      });
      const { port } = new URL(url);
      await new Promise<void>((resolve, reject) => {
        const socket = connect(Number(port), '127.0.0.1', () => {
          socket.write(
            'POST /2015-03-31/functions/function/invocations HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{"messages": ["',
          );
          setTimeout(() => {
            socket.destroy();
            resolve();
          }, 50);
        });
        socket.on('error', reject);
      });
      await new Promise((resolve) => setTimeout(resolve, 200));
      assert.equal(child.exitCode, null, 'the server is still running');
      const response = await fetch(`${url}/2015-03-31/functions/function/invocations`, { method: 'POST', body: '{"a": 1}' });
      assert.equal(response.status, 200);
      assert.deepEqual(await response.json(), { echo: { a: 1 } });
    } finally {
      child.kill();
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('a malformed escape in the function name is a 400, not a crash', async () => {
    const response = await invoke('/2015-03-31/functions/%E0%A4%A/invocations');
    assert.equal(response.status, 400);
    assert.match(((await response.json()) as { message: string }).message, /not valid percent-encoding/);
  });

  test('names are looked up among the functions only, not the prototype chain', async () => {
    for (const name of ['constructor', '__proto__', 'toString', 'hasOwnProperty']) {
      const response = await invoke(`/2015-03-31/functions/${name}/invocations`);
      assert.equal(response.status, 404, name);
      assert.equal(response.headers.get('x-amzn-errortype'), 'ResourceNotFoundException');
    }
  });
});
