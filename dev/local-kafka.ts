import { randomBytes } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DevstackError } from './devstack-error.ts';
import { findFreePorts } from './free-port.ts';
import { findJava } from './java-runtime.ts';
import { describeKafkaCluster } from './kafka-cluster-probe.ts';
import { DEFAULT_KAFKA_VERSION, ensureKafkaJars, type KafkaJars } from './kafka-jars.ts';
import { log4j2Config } from './log4j2-config.ts';
import { describeExit, spawnOwnedProcess } from './owned-process.ts';
import { waitUntilReady } from './readiness.ts';
import { runCommand } from './run-command.ts';
import type { RunningKafka } from './services.ts';
import { createWorkDir, keepForInspection } from './work-dir.ts';

export type LocalKafkaOptions = {
  /** Parent of this broker's throwaway directory (config, data, log); default os.tmpdir(). */
  workDir?: string;
  /** Progress lines (jar download, start-up); silent by default. */
  log?: (line: string) => void;
  /** Apache Kafka version; default env KAFKA_BROKER_VERSION, else 4.1.1. */
  version?: string;
  /** Root of the jar cache; default `<project>/.cache`, which git ignores. */
  cacheDir?: string;
  readyTimeoutMs?: number;
  /** TLS listeners beside the plaintext one (which the readiness probe and the tests use). */
  secureListeners?: SecureListenerOptions;
};

/** SASL_SSL (SCRAM) and SSL with client certificates required (mTLS), for transport tests. */
export type SecureListenerOptions = {
  /** the broker's private key (PKCS#8, unencrypted) followed by its certificate, PEM */
  keyStorePem: string;
  /** the CA(s) whose client certificates the mTLS listener accepts, PEM */
  trustStorePem: string;
  /** SCRAM credentials, created with the storage (KRaft keeps them in its metadata) */
  scramUsers: Array<{
    mechanism: 'SCRAM-SHA-256' | 'SCRAM-SHA-512';
    name: string;
    password: string;
  }>;
};

/** A single-node KRaft broker (broker and controller in one JVM) on free loopback ports. */
export type LocalKafka = RunningKafka & {
  logFile: string;
  /** host:port of the secure listeners, when asked for */
  secureBrokers?: { saslSsl: string; mutualTls: string };
};

const PROJECT_CACHE_DIR = fileURLToPath(new URL('../.cache/', import.meta.url));
const READY_TIMEOUT_MS = 90_000;
const STOP_GRACE_MS = 20_000;
const PORT_ATTEMPTS = 3;
const PORT_TAKEN = Symbol('port taken');

// What kafka-server-start.sh uses, with a heap sized for a 2-core test machine.
const BROKER_JVM_FLAGS = [
  '-Xms256m',
  '-Xmx512m',
  '-XX:+UseG1GC',
  '-XX:MaxGCPauseMillis=20',
  '-XX:InitiatingHeapOccupancyPercent=35',
  '-XX:+ExplicitGCInvokesConcurrent',
  '-XX:+ExitOnOutOfMemoryError',
  '-Djava.awt.headless=true',
];
// The storage tool runs for two seconds: start fast rather than run fast.
const TOOL_JVM_FLAGS = [
  '-Xmx256m',
  '-XX:TieredStopAtLevel=1',
  '-XX:+UseSerialGC',
  '-Djava.awt.headless=true',
  '-Ddevstack.kafka.logLevel=WARN',
];

/**
 * Starts a real Apache Kafka broker as a child process: jars fetched once with Maven, storage
 * formatted, ready when it answers a metadata request. `stop()` removes its directory; after
 * a failed start the directory is kept for its logs.
 */
export async function startLocalKafka(options: LocalKafkaOptions = {}): Promise<LocalKafka> {
  const log = options.log ?? (() => undefined);
  const version = options.version ?? process.env.KAFKA_BROKER_VERSION ?? DEFAULT_KAFKA_VERSION;
  const java = await findJava({
    service: 'local Kafka broker',
    alternative: 'set TEST_KAFKA_BROKERS to use a running Kafka',
  });
  const cacheDir = options.cacheDir ?? PROJECT_CACHE_DIR;
  const jars = await ensureKafkaJars({ version, cacheDir, log });
  for (let attempt = 1; ; attempt += 1) {
    const started = await startBroker(java, jars, options, log);
    if (started !== PORT_TAKEN) return started;
    if (attempt === PORT_ATTEMPTS) {
      throw new DevstackError(
        'KAFKA_START_FAILED',
        `Kafka broker could not bind a free port in ${PORT_ATTEMPTS} attempts`,
      );
    }
    log('Kafka broker lost its port to another process; retrying on new ports');
  }
}

async function startBroker(
  java: string,
  jars: KafkaJars,
  options: LocalKafkaOptions,
  log: (line: string) => void,
): Promise<LocalKafka | typeof PORT_TAKEN> {
  const dir = await createWorkDir(options.workDir ?? tmpdir(), 'customer-sync-kafka-');
  const [brokerPort, controllerPort, saslSslPort, mutualTlsPort] = await findFreePorts(4);
  if (brokerPort === undefined || controllerPort === undefined) throw new Error('no free ports');
  const propertiesFile = join(dir, 'server.properties');
  const log4jFile = join(dir, 'log4j2.xml');
  const logFile = join(dir, 'broker.log');
  const logConfig = `-Dlog4j2.configurationFile=${log4jFile}`;
  await writeFile(log4jFile, LOG4J2_CONFIG);
  const secure = options.secureListeners;
  const securePorts =
    secure && saslSslPort !== undefined && mutualTlsPort !== undefined
      ? { saslSsl: saslSslPort, mutualTls: mutualTlsPort }
      : undefined;
  let properties = serverProperties({ brokerPort, controllerPort, dataDir: join(dir, 'data') });
  if (secure && securePorts) {
    const keyStore = join(dir, 'keystore.pem');
    const trustStore = join(dir, 'truststore.pem');
    await writeFile(keyStore, secure.keyStorePem, { mode: 0o600 });
    await writeFile(trustStore, secure.trustStorePem);
    properties = withSecureListeners(properties, { ...securePorts, keyStore, trustStore });
  }
  await writeFile(propertiesFile, properties);

  const started = performance.now();
  // Kafka 4 is KRaft only: storage must be formatted with a cluster id before the first start.
  // SCRAM credentials live in KRaft's metadata, so they are written with the storage.
  const scramArgs = (secure?.scramUsers ?? []).flatMap((user) => [
    '--add-scram',
    `${user.mechanism}=[name=${user.name},password=${user.password}]`,
  ]);
  const formatArgs = [
    'format',
    '-t',
    newClusterId(),
    '-c',
    propertiesFile,
    '--standalone',
    ...scramArgs,
  ];
  await runCommand(
    java,
    [...TOOL_JVM_FLAGS, logConfig, '-cp', jars.classpath, 'kafka.tools.StorageTool', ...formatArgs],
    { cwd: dir, timeoutMs: 120_000 },
  ).catch(async (error: unknown) => {
    await keepForInspection(dir);
    throw new DevstackError(
      'KAFKA_START_FAILED',
      `Formatting the Kafka ${jars.version} storage failed; files kept in ${dir}`,
      { cause: error },
    );
  });

  const formatted = performance.now();
  const broker = await spawnOwnedProcess(
    java,
    [...BROKER_JVM_FLAGS, logConfig, '-cp', jars.classpath, 'kafka.Kafka', propertiesFile],
    { cwd: dir, logFile },
  );
  const brokers = `127.0.0.1:${brokerPort}`;
  try {
    await waitUntilReady({
      what: `Kafka ${jars.version} broker`,
      failureCode: 'KAFKA_START_FAILED',
      process: broker,
      probe: () => describeKafkaCluster(brokers),
      deadlineMs: options.readyTimeoutMs ?? READY_TIMEOUT_MS,
    });
  } catch (error) {
    await broker.stop('SIGKILL', 0);
    if (/BindException|Address already in use/.test(broker.logTail(400))) {
      await rm(dir, { recursive: true, force: true });
      return PORT_TAKEN;
    }
    await keepForInspection(dir);
    log(`Kafka broker failed to start; its files are kept in ${dir}`);
    throw error;
  }
  const formatSeconds = ((formatted - started) / 1000).toFixed(1);
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  log(
    `Kafka ${jars.version} broker ready on ${brokers} in ${seconds} s, ${formatSeconds} s of it formatting storage (log: ${logFile})`,
  );

  let stopping: Promise<void> | undefined;
  return {
    brokers,
    version: jars.version,
    logFile,
    exited: broker.exited.then(describeExit),
    ...(securePorts
      ? {
          secureBrokers: {
            saslSsl: `127.0.0.1:${securePorts.saslSsl}`,
            mutualTls: `127.0.0.1:${securePorts.mutualTls}`,
          },
        }
      : {}),
    stop() {
      stopping ??= (async () => {
        await broker.stop('SIGTERM', STOP_GRACE_MS);
        await rm(dir, { recursive: true, force: true });
      })();
      return stopping;
    },
  };
}

/** Like Kafka's Uuid.randomUuid(): 16 random bytes in base64url, never starting with '-'. */
function newClusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

function serverProperties(config: { brokerPort: number; controllerPort: number; dataDir: string }) {
  const broker = `127.0.0.1:${config.brokerPort}`;
  const controller = `127.0.0.1:${config.controllerPort}`;
  return `# Single-node KRaft broker for tests, written by dev/local-kafka.ts
process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=${controller}
listeners=PLAINTEXT://${broker},CONTROLLER://${controller}
advertised.listeners=PLAINTEXT://${broker},CONTROLLER://${controller}
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=${config.dataDir}
num.partitions=1
auto.create.topics.enable=true
group.initial.rebalance.delay.ms=0
# One replica of everything, and one partition per internal topic: creating the default 50
# partitions of __consumer_offsets delays the first consumer group join on 2 cores.
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
share.coordinator.state.topic.num.partitions=1
# The log cleaner allocates this on the heap up front (default 128 MiB of our 512).
log.cleaner.dedupe.buffer.size=16777216
num.recovery.threads.per.data.dir=1
`;
}

/**
 * Adds a SASL_SSL listener (SCRAM-SHA-256/512, what managed Kafka services offer) and an SSL
 * listener that requires a client certificate, both with the broker's PEM key store. The
 * brokers still talk to each other, and the readiness probe to them, over PLAINTEXT.
 */
function withSecureListeners(
  properties: string,
  secure: { saslSsl: number; mutualTls: number; keyStore: string; trustStore: string },
): string {
  const saslSsl = `SASL_SSL://127.0.0.1:${secure.saslSsl}`;
  const mutualTls = `SSL://127.0.0.1:${secure.mutualTls}`;
  const scramLogin = 'org.apache.kafka.common.security.scram.ScramLoginModule required;';
  return `${properties
    .replace(/^listeners=(.*)$/m, `listeners=$1,${saslSsl},${mutualTls}`)
    .replace(/^advertised\.listeners=(.*)$/m, `advertised.listeners=$1,${saslSsl},${mutualTls}`)
    .replace(
      /^listener\.security\.protocol\.map=(.*)$/m,
      'listener.security.protocol.map=$1,SASL_SSL:SASL_SSL,SSL:SSL',
    )}# TLS listeners (SecureListenerOptions)
ssl.keystore.type=PEM
ssl.keystore.location=${secure.keyStore}
ssl.truststore.type=PEM
ssl.truststore.location=${secure.trustStore}
listener.name.ssl.ssl.client.auth=required
sasl.enabled.mechanisms=SCRAM-SHA-256,SCRAM-SHA-512
listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config=${scramLogin}
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=${scramLogin}
`;
}

// The broker's stdout is its log file (see owned-process.ts), so Console is the file appender
// here and nothing of the broker reaches the test runner's output.
// Log4j's own lookup: the root level from a system property, INFO by default.
const LOG4J2_CONFIG = log4j2Config(`\${sys:devstack.kafka.logLevel:-INFO}`, [
  'kafka.request.logger',
  'state.change.logger',
  'org.apache.kafka.common.config.AbstractConfig',
]);
