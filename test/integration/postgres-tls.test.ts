/**
 * DATABASE_SSL_MODE / DATABASE_SSL_CA against a real PostgreSQL serving TLS only (SPEC §8):
 * a cluster of this file's own, started with a certificate from a CA made here with openssl,
 * whose pg_hba refuses any TCP connection without TLS. What the modes accept and refuse, and
 * that every connection the service and its CLI open (pool, relay lease, LISTEN, migrations)
 * goes over TLS.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type LocalPostgres, startLocalPostgres } from '../../dev/local-postgres.ts';
import type { DatabaseSslMode } from '../../src/config/security-variables.ts';
import { connectDatabase } from '../../src/persistence/database.ts';
import { applyMigrations } from '../../src/persistence/migrate.ts';
import { createTenantRepository } from '../../src/persistence/tenant-repository.ts';
import { registerCleanup } from '../support/cleanup.ts';
import { startPipelineFixture } from '../support/pipeline-fixture.ts';
import { runCli } from '../support/run-cli.ts';
import { ServiceProcess } from '../support/service-process.ts';
import {
  createTestCertificateAuthority,
  type TestCertificateAuthority,
} from '../support/test-certificates.ts';
import { anUpdateRequest } from '../support/update-request-builder.ts';
import { waitFor } from '../support/wait-for.ts';

/** What one query over a fresh pool came to: 'tls', 'plain', or the error code. */
async function connectWith(url: string, mode: DatabaseSslMode, ca?: string): Promise<string> {
  const database = connectDatabase(
    { url, tls: { mode, ...(ca !== undefined ? { ca } : {}) } },
    { poolMax: 1 },
  );
  try {
    const [row] = await database.sql<{ ssl: boolean }[]>`
      select ssl from pg_stat_ssl where pid = pg_backend_pid()`;
    return row?.ssl ? 'tls' : 'plain';
  } catch (error) {
    return String((error as { code?: unknown }).code ?? (error as Error).message);
  } finally {
    await database.close(1);
  }
}

describe('Postgres over TLS (DATABASE_SSL_MODE, DATABASE_SSL_CA)', () => {
  let server: LocalPostgres;
  let ca: TestCertificateAuthority;
  let otherCa: TestCertificateAuthority;
  /** the server as its certificate names it */
  let byName: string;
  /** the same server by IP address, which its certificate does not name */
  let byAddress: string;

  before(async () => {
    ca = await createTestCertificateAuthority('postgres');
    otherCa = await createTestCertificateAuthority('other');
    const certificate = await ca.issue('postgres-server', { dns: ['localhost'] });
    server = await startLocalPostgres({
      tls: { certificatePem: certificate.certificatePem, keyPem: certificate.keyPem },
    });
    registerCleanup(() => server.stop());
    byAddress = server.url;
    byName = server.url.replace('127.0.0.1', 'localhost');
    const endpoint = { url: byName, tls: { mode: 'verify-full', ca: ca.certificatePem } } as const;
    await applyMigrations(endpoint);
    const database = connectDatabase(endpoint, { poolMax: 1 });
    await createTenantRepository(database.db).save({
      tenantId: 'tenant-a',
      taskTypes: ['collections'],
    });
    await database.close(1);
  });
  after(async () => server?.stop());

  it('verify-full connects with the CA that signed the certificate, over TLS', async () => {
    assert.equal(await connectWith(byName, 'verify-full', ca.certificatePem), 'tls');
  });

  it('verify-full refuses a server whose certificate another CA signed', async () => {
    assert.equal(
      await connectWith(byName, 'verify-full', otherCa.certificatePem),
      'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
    );
  });

  it('verify-full refuses a certificate that does not name the host; verify-ca takes it', async () => {
    assert.equal(
      await connectWith(byAddress, 'verify-full', ca.certificatePem),
      'ERR_TLS_CERT_ALTNAME_INVALID',
    );
    assert.equal(await connectWith(byAddress, 'verify-ca', ca.certificatePem), 'tls');
    assert.equal(
      await connectWith(byAddress, 'verify-ca', otherCa.certificatePem),
      'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
    );
  });

  it('require encrypts without checking who answers; disable is refused by this server', async () => {
    assert.equal(await connectWith(byAddress, 'require', otherCa.certificatePem), 'tls');
    assert.equal(await connectWith(byAddress, 'disable'), '28000');
  });

  it('the CLI migrates over verified TLS, and fails in one line with the wrong CA', async () => {
    const env = {
      DATABASE_URL: byName,
      DATABASE_SSL_MODE: 'verify-full',
      DATABASE_SSL_CA: ca.certificateFile,
    };
    const migrated = await runCli(['migrate'], { env });
    assert.equal(migrated.code, 0, migrated.stderr);
    const tenants = await runCli(['tenants', 'list'], { env });
    assert.equal(tenants.code, 0, tenants.stderr);
    assert.match(tenants.stdout, /^tenant-a\tcollections/m);

    const refused = await runCli(['tenants', 'list'], {
      env: { ...env, DATABASE_SSL_CA: otherCa.certificateFile },
    });
    // Waiting cannot fix a CA that did not sign the server's certificate: one line, exit 78.
    assert.equal(refused.code, 78, refused.stderr);
    const lines = refused.stderr.trim().split('\n');
    assert.equal(lines.length, 1, refused.stderr);
    assert.match(
      lines[0] ?? '',
      /^customer-sync: PostgreSQL at \S+ \(DATABASE_URL\): TLS failed \(UNABLE_TO_VERIFY_LEAF_SIGNATURE\); check DATABASE_SSL_MODE and DATABASE_SSL_CA$/,
    );
  });

  it('the service opens every connection over TLS: pool, relay lease and LISTEN', async () => {
    // Only the fixture's topics, producer and recorders: the service's database is this server.
    const fixture = await startPipelineFixture({ partitions: 1 });
    const service = new ServiceProcess({
      databaseUrl: byName,
      topics: fixture.topics,
      env: { DATABASE_SSL_MODE: 'verify-full', DATABASE_SSL_CA: ca.certificateFile },
    });
    await service.start();
    const request = anUpdateRequest()
      .withExternalId('tls-1')
      .withData({ taskType: 'collections' })
      .build();
    await fixture.publish([request]);
    await waitFor('the customer.updated of the request, relayed over the lease connection', () =>
      fixture.updated
        .json<{ causationId: string }>()
        .some((event) => event.causationId === request.eventId),
    );
    const database = connectDatabase(
      { url: byName, tls: { mode: 'verify-full', ca: ca.certificatePem } },
      { poolMax: 1 },
    );
    try {
      const connections = await database.sql<{ application_name: string; ssl: boolean }[]>`
        select a.application_name, s.ssl
        from pg_stat_activity a join pg_stat_ssl s using (pid)
        where a.backend_type = 'client backend' and a.application_name like 'customer-sync%'`;
      const names = new Set(connections.map((connection) => connection.application_name));
      assert.ok(names.has('customer-sync') && names.has('customer-sync-relay'), [...names].join());
      assert.ok(
        connections.every((connection) => connection.ssl),
        JSON.stringify(connections),
      );
    } finally {
      await database.close(1);
      await service.kill('SIGTERM');
    }
  });
});
