import { createServer, type Server } from 'node:http';
import type { Registry } from 'prom-client';
import { withDeadline } from '../application/retry-policy.ts';
import type { LivenessVerdict } from '../observability/liveness-rules.ts';
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

/** How long /readyz waits for one check before it counts it as failed. */
const READINESS_CHECK_TIMEOUT_MS = 2_000;

/**
 * SPEC §8: /healthz says the process is alive and making progress (503 with the reasons when
 * it is stuck: observability/liveness-rules.ts), /readyz that it can do its work (joined its
 * consumer group, broker and database answering), /metrics is the Prometheus registry.
 */
export async function startHealthServer(options: {
  port: number;
  /** HTTP_HOST; unset listens on every interface (Node: `::`, or `0.0.0.0` without IPv6) */
  host?: string;
  registry: Registry;
  readiness: ReadinessCheck[];
  /** the liveness verdict; without it /healthz only says the process answers */
  liveness?: () => LivenessVerdict;
  /**
   * While it returns a reason (start-up under way, waiting for Postgres or Kafka), /readyz
   * answers 503 with it and runs no check: the components they check do not exist yet.
   */
  notReadyReason?: () => string | undefined;
  logger: Logger;
}): Promise<HealthServer> {
  // A check that has not answered yet is not started again: while the database is down its
  // query waits for a connection, and every probe would queue one more.
  const pending = new Map<string, Promise<boolean>>();
  function answerOf({ name, check }: ReadinessCheck): Promise<boolean> {
    let answer = pending.get(name);
    if (answer === undefined) {
      answer = check()
        .catch(() => false)
        .finally(() => pending.delete(name));
      pending.set(name, answer);
    }
    // A check that cannot answer promptly is a no: /readyz must answer even when the
    // database does not (an orchestrator's probe has a short timeout of its own).
    const settled = answer;
    return withDeadline(() => settled, READINESS_CHECK_TIMEOUT_MS).catch(() => false);
  }

  const server: Server = createServer(async (request, response) => {
    try {
      const path = new URL(request.url ?? '/', 'http://localhost').pathname;
      if (request.method !== 'GET' && request.method !== 'HEAD') {
        response.writeHead(405, { allow: 'GET, HEAD' }).end();
      } else if (path === '/healthz') {
        const verdict = options.liveness?.() ?? { live: true, problems: [] };
        response
          .writeHead(verdict.live ? 200 : 503, { 'content-type': 'application/json' })
          .end(
            verdict.live
              ? '{"status":"ok"}'
              : JSON.stringify({ status: 'stuck', problems: verdict.problems }),
          );
      } else if (path === '/readyz' && options.notReadyReason?.() !== undefined) {
        response
          .writeHead(503, { 'content-type': 'application/json' })
          .end(JSON.stringify({ status: 'not ready', reason: options.notReadyReason() }));
      } else if (path === '/readyz') {
        const results = await Promise.all(
          options.readiness.map(async (check) => [check.name, await answerOf(check)] as const),
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
    server.listen({ port: options.port, host: options.host }, () => resolve());
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
