import { readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { DevstackError } from './devstack-error.ts';
import { findFreePort } from './free-port.ts';
import { findJava } from './java-runtime.ts';
import { ensureKafkaConnectJars } from './kafka-connect-jars.ts';
import { log4j2Config } from './log4j2-config.ts';
import { describeExit, type OwnedProcess, spawnOwnedProcess } from './owned-process.ts';
import { createWorkDir, keepForInspection } from './work-dir.ts';

export type KafkaConnectStandaloneOptions = {
  brokers: string;
  /** one connector's configuration (name, connector.class, topics, …) */
  connector: Record<string, string>;
  /** Kafka Connect runtime version; default the broker's 4.1.1 */
  kafkaVersion?: string;
  /** Root of the jar cache; default `<project>/.cache`, which git ignores. */
  cacheDir?: string;
  /** Parent of the worker's throwaway directory (properties, offsets, log); default tmpdir. */
  workDir?: string;
  log?: (line: string) => void;
};

/** One Kafka Connect standalone worker running one connector, as a child process. */
export type KafkaConnectStandalone = {
  readonly pid: number | undefined;
  readonly logFile: string;
  /**
   * Resolves once the connector's sink task has its partitions (the Kafka consumer's
   * "Adding newly assigned partitions" line): from then on it consumes.
   */
  partitionsAssigned(timeoutMs: number): Promise<void>;
  stop(): Promise<void>;
};

const PROJECT_CACHE_DIR = fileURLToPath(new URL('../.cache/', import.meta.url));
const STOP_GRACE_MS = 20_000;
// connect-standalone.sh's heap (KAFKA_HEAP_OPTS) and kafka-run-class.sh's GC settings: the
// worker as its own scripts start it.
const CONNECT_JVM_FLAGS = [
  '-Xms256m',
  '-Xmx2g',
  '-XX:+UseG1GC',
  '-XX:MaxGCPauseMillis=20',
  '-XX:InitiatingHeapOccupancyPercent=35',
  '-XX:+ExplicitGCInvokesConcurrent',
  '-XX:+ExitOnOutOfMemoryError',
  '-Djava.awt.headless=true',
];
const ASSIGNED = /Adding newly assigned partitions: \[.+\]/;

/**
 * Starts `org.apache.kafka.connect.cli.ConnectStandalone` with the jars of
 * kafka-connect-jars.ts (fetched once with Maven): JSON converters with schemas, offsets in a
 * file of its own, the REST listener on a free loopback port. `stop()` sends SIGTERM (Connect
 * stops its tasks and commits their offsets) and removes the directory.
 */
export async function startKafkaConnectStandalone(
  options: KafkaConnectStandaloneOptions,
): Promise<KafkaConnectStandalone> {
  const log = options.log ?? (() => {});
  const java = await findJava({
    service: 'Kafka Connect (the benchmark peer)',
    alternative: 'run the benchmark without --peers',
  });
  const jars = await ensureKafkaConnectJars({
    cacheDir: options.cacheDir ?? PROJECT_CACHE_DIR,
    log,
    ...(options.kafkaVersion ? { kafkaVersion: options.kafkaVersion } : {}),
  });
  const dir = await createWorkDir(options.workDir ?? tmpdir(), 'customer-sync-connect-');
  const log4jFile = join(dir, 'log4j2.xml');
  const workerFile = join(dir, 'worker.properties');
  const connectorFile = join(dir, 'connector.properties');
  const logFile = join(dir, 'connect.log');
  await writeFile(log4jFile, LOG4J2_CONFIG);
  await writeFile(
    workerFile,
    properties({
      'bootstrap.servers': options.brokers,
      'key.converter': 'org.apache.kafka.connect.json.JsonConverter',
      'value.converter': 'org.apache.kafka.connect.json.JsonConverter',
      'key.converter.schemas.enable': 'true',
      'value.converter.schemas.enable': 'true',
      'offset.storage.file.filename': join(dir, 'connect.offsets'),
      listeners: `http://127.0.0.1:${await findFreePort()}`,
      // The connector is on the classpath and declares itself in META-INF/services: no
      // reflective scan of ~90 jars at start-up.
      'plugin.discovery': 'service_load',
    }),
  );
  await writeFile(connectorFile, properties(options.connector));
  const started = performance.now();
  const worker: OwnedProcess = await spawnOwnedProcess(
    java,
    [
      ...CONNECT_JVM_FLAGS,
      `-Dlog4j2.configurationFile=${log4jFile}`,
      '-cp',
      jars.classpath,
      'org.apache.kafka.connect.cli.ConnectStandalone',
      workerFile,
      connectorFile,
    ],
    { cwd: dir, logFile },
  );

  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await worker.stop('SIGTERM', STOP_GRACE_MS);
    await rm(dir, { recursive: true, force: true });
  };

  return {
    pid: worker.pid,
    logFile,
    async partitionsAssigned(timeoutMs) {
      const deadline = performance.now() + timeoutMs;
      for (;;) {
        const text = await readFile(logFile, 'utf8').catch(() => '');
        if (ASSIGNED.test(text)) {
          log(
            `Kafka Connect worker consuming after ${((performance.now() - started) / 1000).toFixed(1)} s`,
          );
          return;
        }
        const exit = worker.exitStatus();
        if (exit !== undefined || performance.now() > deadline) {
          stopped = true;
          await worker.stop('SIGKILL', 0);
          await keepForInspection(dir);
          throw new DevstackError(
            'KAFKA_CONNECT_START_FAILED',
            `Kafka Connect's sink task ${exit ? describeExit(exit) : `had no partitions after ${timeoutMs} ms`}; its files are kept in ${dir}:\n${worker.logTail(30)}`,
          );
        }
        await sleep(100);
      }
    },
    stop,
  };
}

function properties(entries: Record<string, string>): string {
  return `${Object.entries(entries)
    .map(([key, value]) => `${key}=${value.replaceAll('\\', '\\\\')}`)
    .join('\n')}\n`;
}

const LOG4J2_CONFIG = log4j2Config('INFO', [
  'org.apache.kafka.common.config.AbstractConfig',
  'org.hibernate',
  'com.mchange',
]);
