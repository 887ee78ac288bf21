import { createServer, type Server } from 'node:http';
import type { Registry } from 'prom-client';
import type { Logger } from '../observability/logger.ts';

export interface ReadinessCheck {
  name: string;
  check(): Promise<boolean>;
}

export interface HealthServer {
  /** the port it listens on (useful when configured as 0) */
  port: number;
  close(): Promise<void>;
}

/**
 * SPEC §8: /healthz says the process is alive, /readyz that it can do its work (joined its
 * consumer group, database reachable), /metrics is the Prometheus registry.
 */
export async function startHealthServer(options: {
  port: number;
  registry: Registry;
  readiness: ReadinessCheck[];
  logger: Logger;
}): Promise<HealthServer> {
  const server: Server = createServer(async (request, response) => {
    try {
      const path = new URL(request.url ?? '/', 'http://localhost').pathname;
      if (request.method !== 'GET' && request.method !== 'HEAD') {
        response.writeHead(405, { allow: 'GET, HEAD' }).end();
      } else if (path === '/healthz') {
        response.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
      } else if (path === '/readyz') {
        const results = await Promise.all(
          options.readiness.map(
            async ({ name, check }) => [name, await check().catch(() => false)] as const,
          ),
        );
        const ready = results.every(([, ok]) => ok);
        response.writeHead(ready ? 200 : 503, { 'content-type': 'application/json' }).end(
          JSON.stringify({
            status: ready ? 'ready' : 'not ready',
            checks: Object.fromEntries(results),
          }),
        );
      } else if (path === '/metrics') {
        const body = await options.registry.metrics();
        response.writeHead(200, { 'content-type': options.registry.contentType }).end(body);
      } else {
        response.writeHead(404).end();
      }
    } catch (error) {
      options.logger.warn({ kind: (error as Error).name }, 'health endpoint failed');
      if (!response.headersSent) response.writeHead(500);
      response.end();
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, () => resolve());
  });
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : options.port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
