/** The local stack's emulator (no authentication) listens on this machine only unless exposed on purpose. */
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { describe, test } from 'node:test';
import { startEmulator } from '../../local/stack.ts';
import { testResources } from '../helpers/stack.ts';

/** True when a TCP connection to host:port is accepted. */
function accepts(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port, timeout: 2000 });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
}

const portOf = (endpoint: string) => Number(new URL(endpoint).port);

describe('local stack: where the emulator listens', () => {
  // 127.0.0.2 is this machine too, but not the address 127.0.0.1: a server bound to 127.0.0.1
  // refuses it, one bound to every interface (0.0.0.0, as fauxqs does by itself) accepts it.
  test('by default on 127.0.0.1 only', async () => {
    const { names: _names, ...resources } = testResources();
    const aws = await startEmulator(resources, 0);
    try {
      const port = portOf(aws.awsEndpoint);
      assert.equal(await accepts('127.0.0.1', port), true);
      assert.equal(await accepts('127.0.0.2', port), false, 'not reachable on another address');
    } finally {
      await aws.stop();
    }
  });

  test('on every interface when asked (0.0.0.0)', async () => {
    const { names: _names, ...resources } = testResources();
    const aws = await startEmulator(resources, 0, undefined, '0.0.0.0');
    try {
      assert.equal(await accepts('127.0.0.2', portOf(aws.awsEndpoint)), true);
    } finally {
      await aws.stop();
    }
  });
});
