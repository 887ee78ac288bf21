import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { startHealthServer } from '../../src/http/health-server.ts';
import { createLogger } from '../../src/observability/logger.ts';

/** Whether a TCP connection to host:port is accepted. */
function accepts(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

describe('the HTTP port (HTTP_HOST)', () => {
  const options = {
    registry: new Registry(),
    readiness: [],
    logger: createLogger({ level: 'silent' }),
  };

  it('listens only on the interface it is given', async () => {
    const server = await startHealthServer({ ...options, port: 0, host: '127.0.0.1' });
    try {
      assert.equal(await accepts('127.0.0.1', server.port), true);
      // Every 127/8 address is this machine: one not asked for is refused.
      assert.equal(await accepts('127.0.0.2', server.port), false);
    } finally {
      await server.close();
    }
  });

  it('listens on every interface when no host is given (what a container needs)', async () => {
    const server = await startHealthServer({ ...options, port: 0 });
    try {
      assert.equal(await accepts('127.0.0.1', server.port), true);
      assert.equal(await accepts('127.0.0.2', server.port), true);
    } finally {
      await server.close();
    }
  });
});
