import { connect, createServer, type Server, type Socket } from 'node:net';
import { registerCleanup } from './cleanup.ts';

export interface TcpProxy {
  /** the local port clients connect to */
  port: number;
  /** `url` with its host and port replaced by the proxy's */
  proxiedUrl(url: string): string;
  /**
   * A network outage: every open connection is destroyed on both sides, and new connections
   * are accepted and reset at once (the client sees ECONNRESET, as with a server that is down)
   * until `restore`.
   */
  cut(): void;
  restore(): void;
  /** connections forwarded right now */
  openConnections(): number;
  /**
   * The server's answers are kept back until `releaseReplies`, so a test can see what a client
   * sends before it has heard back; what clients send still goes through.
   */
  holdReplies(): void;
  releaseReplies(): void;
  /** everything clients have sent through the proxy so far, as latin1 text */
  sentText(): string;
  close(): Promise<void>;
}

/**
 * A TCP forwarder on 127.0.0.1 between the service and a real server, so that tests can take
 * the server away and bring it back without knowing how it runs (a local binary, a container,
 * a shared instance). Closed when the test file ends.
 */
export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const pairs = new Set<{ client: Socket; upstream: Socket }>();
  let isCut = false;
  let heldReplies: Array<{ client: Socket; chunk: Buffer }> | undefined;
  const sent: Buffer[] = [];

  const server: Server = createServer((client) => {
    if (isCut) {
      abort(client);
      return;
    }
    const upstream = connect({ host: target.host, port: target.port });
    const pair = { client, upstream };
    pairs.add(pair);
    const close = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', close).on('close', close);
    upstream.on('error', close).on('close', close);
    client.on('data', (chunk: Buffer) => {
      sent.push(chunk);
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      if (heldReplies) heldReplies.push({ client, chunk });
      else client.write(chunk);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('the proxy has no port');

  const proxy: TcpProxy = {
    port: address.port,
    proxiedUrl(url) {
      const proxied = new URL(url);
      proxied.hostname = '127.0.0.1';
      proxied.port = String(address.port);
      return proxied.toString();
    },
    cut() {
      isCut = true;
      for (const { client, upstream } of pairs) {
        abort(client);
        abort(upstream);
      }
      pairs.clear();
    },
    restore() {
      isCut = false;
    },
    openConnections: () => pairs.size,
    holdReplies() {
      heldReplies ??= [];
    },
    releaseReplies() {
      const held = heldReplies ?? [];
      heldReplies = undefined;
      for (const { client, chunk } of held) if (!client.destroyed) client.write(chunk);
    },
    sentText: () => Buffer.concat(sent).toString('latin1'),
    close: () =>
      new Promise<void>((resolve) => {
        proxy.cut();
        server.close(() => resolve());
      }),
  };
  registerCleanup(() => proxy.close());
  return proxy;
}

/**
 * Closes with a TCP reset, as a dead server or network does. Not on a socket that is already
 * ending or still connecting: there `resetAndDestroy()` fails with EINVAL and (Node 26) leaks
 * the handle, and the test process then never exits. A plain destroy() does there.
 */
function abort(socket: Socket): void {
  if (socket.destroyed) return;
  if (socket.connecting || socket.writableEnded) socket.destroy();
  else socket.resetAndDestroy();
}

/** Where a postgres:// (or any host:port) URL points. */
export function urlTarget(url: string): { host: string; port: number } {
  const parsed = new URL(url);
  return { host: parsed.hostname, port: Number(parsed.port || 5432) };
}
