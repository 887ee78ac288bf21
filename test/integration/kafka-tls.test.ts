/**
 * KAFKA_SSL_CA / KAFKA_SSL_CERT / KAFKA_SSL_KEY and SASL/SCRAM against a real broker with TLS
 * listeners (SPEC §8): a broker of this file's own (dev/local-kafka.ts), its
 * certificate from a CA made here with openssl, SCRAM users created with its storage, a
 * SASL_SSL listener and an SSL listener that requires client certificates. The service and
 * the CLI connect with the right CA and credentials, and fail with one line otherwise; the
 * broker's own Java tools check the listeners, so a refusal is ours to explain, not the setup's.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import { findJava } from '../../dev/java-runtime.ts';
import { DEFAULT_KAFKA_VERSION, ensureKafkaJars } from '../../dev/kafka-jars.ts';
import { type LocalKafka, startLocalKafka } from '../../dev/local-kafka.ts';
import { runCommand } from '../../dev/run-command.ts';
import { connectDatabase } from '../../src/persistence/database.ts';
import { createTenantRepository } from '../../src/persistence/tenant-repository.ts';
import { registerCleanup } from '../support/cleanup.ts';
import { type CliResult, runCli } from '../support/run-cli.ts';
import { ServiceProcess } from '../support/service-process.ts';
import {
  createTestCertificateAuthority,
  type IssuedCertificate,
  type TestCertificateAuthority,
} from '../support/test-certificates.ts';
import { createTestDatabase, type TestTopics, uniqueName } from '../support/test-environment.ts';
import { anUpdateRequest } from '../support/update-request-builder.ts';
import { waitFor } from '../support/wait-for.ts';

const USER = 'customer-sync';
const PASSWORD = 'scram-password-5d0c81';
const CACHE_DIR = new URL('../../.cache/', import.meta.url).pathname;

/** The one line a failed command printed on stderr, parsed. */
/** A configuration that can never work: one line on stderr naming what to fix, exit 78. */
function oneRefusalLine(result: CliResult): string {
  const lines = result.stderr.trim().split('\n');
  assert.equal(lines.length, 1, `expected one line on stderr, got:\n${result.stderr}`);
  assert.equal(result.code, 78, result.stderr);
  return lines[0] ?? '';
}

describe('Kafka over TLS, with SASL/SCRAM and with client certificates', () => {
  let kafka: LocalKafka;
  let ca: TestCertificateAuthority;
  let otherCa: TestCertificateAuthority;
  let client: IssuedCertificate;
  let topics: TestTopics;
  let databaseUrl: string;
  let plaintext: Kafka;

  before(async () => {
    ca = await createTestCertificateAuthority('kafka');
    otherCa = await createTestCertificateAuthority('kafka-other');
    const broker = await ca.issue('kafka-broker', { dns: ['localhost'], ip: ['127.0.0.1'] });
    client = await ca.issue('customer-sync-client', {});
    kafka = await startLocalKafka({
      secureListeners: {
        keyStorePem: `${broker.keyPem}${broker.certificatePem}`,
        trustStorePem: ca.certificatePem,
        scramUsers: [
          { mechanism: 'SCRAM-SHA-256', name: USER, password: PASSWORD },
          { mechanism: 'SCRAM-SHA-512', name: USER, password: PASSWORD },
        ],
      },
    });
    registerCleanup(() => kafka.stop());

    const base = uniqueName('tls');
    topics = {
      updateRequested: `${base}.customer.update.requested`,
      customerUpdated: `${base}.customer.updated`,
      deadLetter: `${base}.customer.update.requested.dlq`,
    };
    plaintext = new Kafka({ brokers: [kafka.brokers], logLevel: logLevel.NOTHING });
    const admin = plaintext.admin();
    await admin.connect();
    await admin.createTopics({
      topics: Object.values(topics).map((topic) => ({ topic, numPartitions: 1 })),
    });
    await admin.disconnect();

    databaseUrl = await createTestDatabase();
    const database = connectDatabase(databaseUrl, { poolMax: 1 });
    await createTenantRepository(database.db).save({
      tenantId: 'tenant-a',
      taskTypes: ['collections'],
    });
    await database.close();
  });

  const scram = (mechanism: 'scram-sha-256' | 'scram-sha-512', password = PASSWORD) => ({
    KAFKA_BROKERS: kafka.secureBrokers?.saslSsl ?? '',
    KAFKA_SSL: 'true',
    KAFKA_SSL_CA: ca.certificateFile,
    KAFKA_SASL_MECHANISM: mechanism,
    KAFKA_SASL_USERNAME: USER,
    KAFKA_SASL_PASSWORD: password,
    TOPIC_DEAD_LETTER: topics.deadLetter,
  });
  const mutualTls = (withCertificate: boolean) => ({
    KAFKA_BROKERS: kafka.secureBrokers?.mutualTls ?? '',
    KAFKA_SSL: 'true',
    KAFKA_SSL_CA: ca.certificateFile,
    ...(withCertificate
      ? { KAFKA_SSL_CERT: client.certificateFile, KAFKA_SSL_KEY: client.keyFile }
      : {}),
    TOPIC_DEAD_LETTER: topics.deadLetter,
  });
  const dlqList = (env: Record<string, string>) => runCli(['dlq', 'list', '--json'], { env });

  it("the broker's own Java client reaches the SCRAM listener (a client that is not ours)", async () => {
    const java = await findJava({ service: 'Kafka tools', alternative: 'install Java 17+' });
    const jars = await ensureKafkaJars({
      version: DEFAULT_KAFKA_VERSION,
      cacheDir: CACHE_DIR,
      log: () => {},
    });
    const properties = join(tmpdir(), `${uniqueName('kafka-client')}.properties`);
    await writeFile(
      properties,
      [
        'security.protocol=SASL_SSL',
        'sasl.mechanism=SCRAM-SHA-512',
        `sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="${USER}" password="${PASSWORD}";`,
        'ssl.truststore.type=PEM',
        `ssl.truststore.location=${ca.certificateFile}`,
        '',
      ].join('\n'),
    );
    const { stdout } = await runCommand(
      java,
      [
        '-Xmx256m',
        '-XX:TieredStopAtLevel=1',
        '-cp',
        jars.classpath,
        'kafka.admin.ConfigCommand',
        '--bootstrap-server',
        kafka.secureBrokers?.saslSsl ?? '',
        '--command-config',
        properties,
        '--describe',
        '--entity-type',
        'users',
      ],
      { timeoutMs: 120_000 },
    );
    // The SCRAM credentials the storage was formatted with are the broker's users.
    assert.match(stdout, new RegExp(`SCRAM credential configs for user-principal '${USER}'`));
  });

  it('the service runs over SASL_SSL with SCRAM-SHA-256 and the right CA', async () => {
    const service = new ServiceProcess({
      databaseUrl,
      topics,
      env: { ...scram('scram-sha-256') },
    });
    await service.start();
    try {
      const producer = plaintext.producer({ createPartitioner: Partitioners.DefaultPartitioner });
      await producer.connect();
      const request = anUpdateRequest().withExternalId('tls-1').build();
      await producer.send({
        topic: topics.updateRequested,
        messages: [{ key: 'tenant-a:tls-1', value: JSON.stringify(request) }],
      });
      await producer.disconnect();
      const admin = plaintext.admin();
      await admin.connect();
      await waitFor('the customer.updated the service published over SASL_SSL', async () => {
        const [partition] = await admin.fetchTopicOffsets(topics.customerUpdated);
        return Number(partition?.high ?? 0) === 1;
      });
      await admin.disconnect();
    } finally {
      const exit = await service.kill('SIGTERM');
      assert.equal(exit?.code, 0);
    }
  });

  it('the CLI connects with SCRAM-SHA-512', async () => {
    const listed = await dlqList(scram('scram-sha-512'));
    assert.equal(listed.code, 0, listed.stderr);
  });

  it('the service refuses a broker certificate its CA did not sign, in one line, at once', async () => {
    const service = new ServiceProcess({
      databaseUrl,
      topics,
      env: { ...scram('scram-sha-256'), KAFKA_SSL_CA: otherCa.certificateFile },
    });
    service.launch();
    await waitFor('the service to give up', () => service.hasExited(), { timeoutMs: 60_000 });
    assert.equal((await service.kill('SIGTERM'))?.code, 78);
    const errors = service.logs.filter(
      (line) => line.level === 'fatal' || line.level === 'error' || 'stderr' in line,
    );
    assert.equal(errors.length, 1, JSON.stringify(service.logs));
    const [line] = errors as Array<{ stderr?: string }>;
    assert.match(
      line?.stderr ?? '',
      /^customer-sync: Kafka at \S+ \(KAFKA_BROKERS\): the certificate of Kafka broker \S+ is not trusted .*KAFKA_SSL_CA must hold the CA that signed it\n$/,
    );
  });

  it('the CLI refuses the same in one line naming KAFKA_SSL_CA', async () => {
    const refused = await dlqList({
      ...scram('scram-sha-256'),
      KAFKA_SSL_CA: otherCa.certificateFile,
    });
    assert.match(oneRefusalLine(refused), /is not trusted .*KAFKA_SSL_CA must hold the CA/);
  });

  it('wrong SCRAM credentials fail in one line, without the password', async () => {
    const refused = await dlqList(scram('scram-sha-256', 'not-the-password-77'));
    assert.match(
      oneRefusalLine(refused),
      /the broker refused the credentials \(SASL SCRAM SHA256 authentication failed.*\); check KAFKA_SASL_MECHANISM, KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD$/,
    );
    assert.doesNotMatch(refused.stderr, /not-the-password-77|scram-password/);
  });

  it('mTLS: connects with KAFKA_SSL_CERT and KAFKA_SSL_KEY, and is refused in one line without', async () => {
    const listed = await dlqList(mutualTls(true));
    assert.equal(listed.code, 0, listed.stderr);
    const refused = await dlqList(mutualTls(false));
    assert.match(oneRefusalLine(refused), /refused our TLS handshake .*client certificate/);
  });
});
