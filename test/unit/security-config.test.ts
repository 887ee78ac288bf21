import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { loadConfig } from '../../src/config/config.ts';
import { postgresSslOption } from '../../src/persistence/database-tls.ts';

const MINIMAL = { KAFKA_BROKERS: 'localhost:9092', DATABASE_URL: 'postgres://app@db:5432/cs' };
const CERTIFICATE = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
const KEY = '-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n';

const directory = mkdtempSync(join(tmpdir(), 'customer-sync-config-'));
after(() => rmSync(directory, { recursive: true, force: true }));
function file(name: string, text: string): string {
  const path = join(directory, name);
  writeFileSync(path, text);
  return path;
}
const caFile = file('ca.pem', CERTIFICATE);
const keyFile = file('key.pem', KEY);

function problemsOf(env: Record<string, string>): string[] {
  const result = loadConfig({ ...MINIMAL, ...env });
  assert.equal(result.ok, false, 'expected configuration problems');
  return result.ok ? [] : result.problems;
}

function configOf(env: Record<string, string>) {
  const result = loadConfig({ ...MINIMAL, ...env });
  assert.ok(result.ok, result.ok ? '' : result.problems.join('\n'));
  return result.config;
}

describe('Postgres transport security (DATABASE_SSL_MODE, DATABASE_SSL_CA)', () => {
  it('connects without TLS unless told otherwise, as before', () => {
    assert.deepEqual(configOf({}).database.tls, { mode: 'disable' });
    assert.equal(postgresSslOption(configOf({}).database.tls, MINIMAL.DATABASE_URL), false);
  });

  it('verifies the certificate and the host name with verify-full, against the given CA', () => {
    const { tls } = configOf({
      DATABASE_SSL_MODE: 'verify-full',
      DATABASE_SSL_CA: caFile,
    }).database;
    assert.deepEqual(tls, { mode: 'verify-full', ca: CERTIFICATE });
    const option = postgresSslOption(tls, MINIMAL.DATABASE_URL);
    assert.ok(option !== false);
    assert.equal(option.rejectUnauthorized, true);
    assert.equal(option.ca, CERTIFICATE);
    assert.equal(option.checkServerIdentity, undefined, "Node's host name check stays on");
    assert.equal(option.host, 'db', 'the name checked is the host dialled');
    const byAddress = postgresSslOption(tls, 'postgres://app@10.1.2.3:5432/cs');
    assert.ok(byAddress !== false && byAddress.host === '10.1.2.3');
  });

  it('checks the chain but not the name with verify-ca, and only encrypts with require', () => {
    const verifyCa = postgresSslOption(
      { mode: 'verify-ca', ca: CERTIFICATE },
      MINIMAL.DATABASE_URL,
    );
    assert.ok(verifyCa !== false && verifyCa.rejectUnauthorized === true);
    assert.equal(typeof verifyCa.checkServerIdentity, 'function');
    assert.deepEqual(postgresSslOption({ mode: 'require' }, MINIMAL.DATABASE_URL), {
      rejectUnauthorized: false,
    });
  });

  it("reads sslmode from DATABASE_URL, with libpq's meaning (postgres.js's require never verifies)", () => {
    const url = 'postgres://app@db:5432/cs?sslmode=verify-full';
    assert.equal(configOf({ DATABASE_URL: url }).database.tls.mode, 'verify-full');
    // libpq: require with a root certificate is verify-ca.
    const required = configOf({
      DATABASE_URL: 'postgres://app@db:5432/cs?sslmode=require',
      DATABASE_SSL_CA: caFile,
    });
    assert.equal(required.database.tls.mode, 'verify-ca');
  });

  it('names the variable of every contradiction or bad value, never a value', () => {
    assert.deepEqual(problemsOf({ DATABASE_SSL_MODE: 'prefer' }), [
      'DATABASE_SSL_MODE must be one of disable, require, verify-ca, verify-full',
    ]);
    assert.deepEqual(
      problemsOf({
        DATABASE_URL: 'postgres://app:pw@db/cs?sslmode=require',
        DATABASE_SSL_MODE: 'verify-full',
      }),
      ['DATABASE_SSL_MODE disagrees with the sslmode in DATABASE_URL: set one of them'],
    );
    assert.deepEqual(problemsOf({ DATABASE_URL: 'postgres://app@db/cs?sslmode=prefer' }), [
      'DATABASE_URL sslmode must be one of disable, require, verify-ca, verify-full (or set DATABASE_SSL_MODE)',
    ]);
    assert.deepEqual(
      problemsOf({
        DATABASE_SSL_MODE: 'verify-full',
        DATABASE_SSL_CA: join(directory, 'none.pem'),
      }),
      ['DATABASE_SSL_CA cannot be read (ENOENT)'],
    );
    assert.deepEqual(problemsOf({ DATABASE_SSL_MODE: 'verify-full', DATABASE_SSL_CA: keyFile }), [
      'DATABASE_SSL_CA must name a PEM file holding a certificate',
    ]);
    assert.deepEqual(problemsOf({ DATABASE_SSL_CA: caFile }), [
      'DATABASE_SSL_CA is set but DATABASE_SSL_MODE is disable',
    ]);
  });
});

describe('Kafka transport security (KAFKA_SSL_*, SASL)', () => {
  it('reads the CA and the client certificate and key from their files', () => {
    const config = configOf({
      KAFKA_SSL: 'true',
      KAFKA_SSL_CA: caFile,
      KAFKA_SSL_CERT: caFile,
      KAFKA_SSL_KEY: keyFile,
    });
    assert.deepEqual(config.kafka.tls, { ca: CERTIFICATE, cert: CERTIFICATE, key: KEY });
  });

  it('refuses SASL over plaintext unless explicitly allowed', () => {
    const sasl = {
      KAFKA_SASL_MECHANISM: 'scram-sha-256',
      KAFKA_SASL_USERNAME: 'svc',
      KAFKA_SASL_PASSWORD: 'secret-password-1',
    };
    const problems = problemsOf(sasl);
    assert.equal(problems.length, 1);
    assert.match(problems[0] ?? '', /^KAFKA_SASL_MECHANISM over a plaintext connection/);
    assert.doesNotMatch(problems.join('\n'), /secret-password-1/);
    assert.equal(configOf({ ...sasl, KAFKA_SSL: 'true' }).kafka.sasl?.mechanism, 'scram-sha-256');
    assert.equal(
      configOf({ ...sasl, KAFKA_SASL_ALLOW_PLAINTEXT: 'true' }).kafka.sasl?.mechanism,
      'scram-sha-256',
    );
  });

  it('refuses certificate files without TLS, and a certificate without its key', () => {
    assert.deepEqual(problemsOf({ KAFKA_SSL_CA: caFile }), [
      'KAFKA_SSL_CA is set but KAFKA_SSL is not true',
    ]);
    assert.deepEqual(problemsOf({ KAFKA_SSL: 'true', KAFKA_SSL_CERT: caFile }), [
      'KAFKA_SSL_KEY is required when the other of KAFKA_SSL_CERT/KAFKA_SSL_KEY is set',
    ]);
    assert.deepEqual(
      problemsOf({ KAFKA_SSL: 'true', KAFKA_SSL_KEY: caFile, KAFKA_SSL_CERT: caFile }),
      ['KAFKA_SSL_KEY must name a PEM file holding a private key'],
    );
  });
});

describe('HTTP_HOST', () => {
  it('listens on every interface by default (what a container needs), or where it is told', () => {
    assert.equal(configOf({}).http.host, undefined);
    assert.equal(configOf({ HTTP_HOST: '127.0.0.1' }).http.host, '127.0.0.1');
    assert.equal(configOf({ HTTP_HOST: '::1' }).http.host, '::1');
    assert.equal(configOf({ HTTP_HOST: 'metrics.internal' }).http.host, 'metrics.internal');
    assert.deepEqual(problemsOf({ HTTP_HOST: 'http://0.0.0.0:8080' }), [
      'HTTP_HOST must be an IP address or a host name (0.0.0.0 or :: for every interface)',
    ]);
  });
});

describe('lending-system credentials (LENDING_API_*)', () => {
  it('wants https for LENDING_API_URL unless the development flag allows http', () => {
    assert.deepEqual(problemsOf({ LENDING_API_URL: 'http://lending:8090' }), [
      'LENDING_API_URL must be an https:// URL (LENDING_API_ALLOW_INSECURE_HTTP=true allows http://, for development only)',
    ]);
    const allowed = configOf({
      LENDING_API_URL: 'http://lending:8090',
      LENDING_API_ALLOW_INSECURE_HTTP: 'true',
    });
    assert.equal(allowed.lendingApi.allowInsecureHttp, true);
  });

  it('keeps tenant tokens as own entries: a tenant called __proto__ or constructor is just a key', () => {
    const { tenantTokens } = configOf({
      LENDING_API_TOKENS: '{"__proto__":"p-token","tenant-a":"a-token"}',
    }).lendingApi;
    assert.equal(tenantTokens.get('__proto__'), 'p-token');
    assert.equal(tenantTokens.get('constructor'), undefined);
    assert.equal(tenantTokens.get('toString'), undefined);
    assert.equal(tenantTokens.size, 2);
  });
});
