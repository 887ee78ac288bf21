import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import tls from 'node:tls';
import { createKafka } from '../../src/messaging/kafka/kafka-client.ts';
import { noDelaySocketFactory } from '../../src/messaging/kafka/no-delay-socket-factory.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { connectDatabase } from '../../src/persistence/database.ts';
import { registerCleanup } from '../support/cleanup.ts';
import { createTestCertificateAuthority } from '../support/test-certificates.ts';
import { testInfrastructure } from '../support/test-environment.ts';

/**
 * Whether Node will connect (or has connected) the socket with TCP_NODELAY. Node has no public
 * getter; it keeps the setting under this symbol and applies it on connect. A Node that renames
 * it fails this test rather than passing it.
 */
function noDelayOf(socket: net.Socket): boolean {
  const key = Object.getOwnPropertySymbols(socket).find(
    (symbol) => symbol.description === 'kSetNoDelay',
  );
  if (key === undefined) throw new Error("this Node keeps no 'kSetNoDelay' on its sockets");
  return (socket as unknown as Record<symbol, boolean>)[key] === true;
}

/** Every socket this process connects while the tests run, by the port it connects to. */
const connected: Array<{ socket: net.Socket; port: number }> = [];
const connect = net.Socket.prototype.connect;

describe("the service's connections to Postgres and Kafka run without Nagle's algorithm", () => {
  before(() => {
    net.Socket.prototype.connect = function (this: net.Socket, ...args: unknown[]) {
      // net.connect() hands its arguments over as one normalised array
      const [given] = args;
      const first = Array.isArray(given) ? given[0] : given;
      const port =
        typeof first === 'object' && first !== null
          ? Number((first as { port?: unknown }).port)
          : Number(first);
      connected.push({ socket: this, port });
      return (connect as (...a: unknown[]) => net.Socket).apply(this, args);
    } as typeof connect;
  });
  after(() => {
    net.Socket.prototype.connect = connect;
  });

  it('postgres.js, mended: every connection of the pool', async () => {
    const { adminDatabaseUrl } = testInfrastructure();
    const port = Number(new URL(adminDatabaseUrl).port || 5432);
    const database = connectDatabase(adminDatabaseUrl, { poolMax: 2 });
    registerCleanup(() => database.close());
    await Promise.all([database.sql`select 1`, database.sql`select pg_sleep(0.05)`]);
    const toPostgres = connected.filter((entry) => entry.port === port);
    assert.ok(toPostgres.length >= 1, 'the pool connected');
    for (const { socket } of toPostgres) assert.equal(noDelayOf(socket), true);
  });

  it('kafkajs, through our socket factory: every connection of a client', async () => {
    const { kafkaBrokers } = testInfrastructure();
    const brokers = kafkaBrokers.split(',');
    const ports = new Set(brokers.map((broker) => Number(broker.split(':').at(-1))));
    const kafka = createKafka(
      { kafka: { clientId: 'no-delay-test', brokers, ssl: false } } as never,
      createLogger({ level: 'silent' }),
    );
    const admin = kafka.admin();
    await admin.connect();
    registerCleanup(() => admin.disconnect());
    await admin.listTopics();
    const toKafka = connected.filter((entry) => ports.has(entry.port));
    assert.ok(toKafka.length >= 1, 'the admin client connected');
    for (const { socket } of toKafka) assert.equal(noDelayOf(socket), true);
  });

  it('the socket factory sets it on TLS connections too', async () => {
    const authority = await createTestCertificateAuthority('no-delay');
    const server = await authority.issue('server', { ip: ['127.0.0.1'] });
    const listener = tls.createServer(
      { cert: server.certificatePem, key: server.keyPem },
      () => {},
    );
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
    registerCleanup(() => new Promise<void>((resolve) => listener.close(() => resolve())));
    const { port } = listener.address() as net.AddressInfo;
    const socket = await new Promise<net.Socket>((resolve, reject) => {
      const made = noDelaySocketFactory({
        host: '127.0.0.1',
        port,
        ssl: { ca: [authority.certificatePem] },
        onConnect: () => resolve(made),
      });
      made.once('error', reject);
    });
    registerCleanup(() => socket.destroy());
    assert.equal(noDelayOf(socket), true);
  });
});
