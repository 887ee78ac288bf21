import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { removeAbandonedFetches, withCacheLock } from './cache-lock.ts';
import { DevstackError } from './devstack-error.ts';
import { findExecutable } from './find-executable.ts';
import { runCommand } from './run-command.ts';

export const DEFAULT_KAFKA_VERSION = '4.1.1';

/** The jars of one Apache Kafka broker version, ready for `java -cp`. */
export type KafkaJars = { version: string; libsDir: string; classpath: string };

export type KafkaJarsOptions = {
  version: string;
  /** Root of the git-ignored cache; jars land in `<cacheDir>/kafka/<version>/libs`. */
  cacheDir: string;
  log: (line: string) => void;
};

// kafka_2.13's POM brings slf4j-api 1.7 and log4j-core 2.24 but no SLF4J binding (the release
// tarball adds it): without one the broker logs nothing at all. A Kafka on SLF4J 2 would need
// log4j-slf4j2-impl instead.
const SLF4J_BINDING = {
  groupId: 'org.apache.logging.log4j',
  artifactId: 'log4j-slf4j-impl',
  version: '2.24.3',
};
const DEPENDENCY_PLUGIN = 'org.apache.maven.plugins:maven-dependency-plugin:3.8.1';
const FETCH_TIMEOUT_MS = 15 * 60_000;
const STALE_LOCK_MS = FETCH_TIMEOUT_MS + 60_000;

/**
 * The broker jars of `version`, downloaded once with Maven from Maven Central. Concurrent test
 * processes wait on a lock file, and the jars become visible by one atomic rename, so a
 * half-finished download is never taken for a complete one.
 */
export async function ensureKafkaJars(options: KafkaJarsOptions): Promise<KafkaJars> {
  const { version } = options;
  assertSupportedVersion(version);
  const versionDir = join(options.cacheDir, 'kafka', version);
  const jars = kafkaJarsIn(versionDir, version);
  if (isComplete(jars)) return jars;

  await mkdir(versionDir, { recursive: true });
  const lockFile = join(versionDir, 'fetch.lock');
  const isDone = () => isComplete(jars);
  await withCacheLock(lockFile, { isDone, staleAfterMs: STALE_LOCK_MS }, async () => {
    if (isComplete(jars)) return;
    await fetchWithMaven(options, versionDir, jars);
  });
  return jars;
}

function assertSupportedVersion(version: string): void {
  const match = /^(\d+)\.\d+\.\d+(?:-[\w.]+)?$/.exec(version);
  if (match === null || Number(match[1]) < 4) {
    throw new DevstackError(
      'KAFKA_VERSION_UNSUPPORTED',
      `Kafka ${version} (KAFKA_BROKER_VERSION) is not supported: the local broker needs Apache Kafka 4.x or newer (KRaft only), e.g. ${DEFAULT_KAFKA_VERSION}`,
    );
  }
}

function kafkaJarsIn(versionDir: string, version: string): KafkaJars {
  const libsDir = join(versionDir, 'libs');
  return { version, libsDir, classpath: join(libsDir, '*') };
}

function isComplete(jars: KafkaJars): boolean {
  return existsSync(join(jars.libsDir, `kafka_2.13-${jars.version}.jar`));
}

async function fetchWithMaven(options: KafkaJarsOptions, versionDir: string, jars: KafkaJars) {
  const mvn = await findExecutable('mvn');
  if (mvn === undefined) {
    throw new DevstackError(
      'MAVEN_MISSING',
      `Maven (mvn) is needed once to download the Kafka ${jars.version} broker jars into ${jars.libsDir}: install Maven, or set TEST_KAFKA_BROKERS to use a running Kafka`,
    );
  }
  const started = performance.now();
  options.log(
    `Fetching Apache Kafka ${jars.version} broker jars from Maven Central (once) into ${jars.libsDir}`,
  );
  await removeAbandonedFetches(versionDir);
  const fetchDir = await mkdtemp(join(versionDir, 'fetch-'));
  try {
    const downloadDir = join(fetchDir, 'libs');
    await writeFile(join(fetchDir, 'pom.xml'), brokerPom(jars.version));
    await runCommand(
      mvn,
      [
        '-q',
        '-B',
        '-f',
        join(fetchDir, 'pom.xml'),
        `${DEPENDENCY_PLUGIN}:copy-dependencies`,
        `-DoutputDirectory=${downloadDir}`,
        '-DincludeScope=runtime',
      ],
      { cwd: fetchDir, timeoutMs: FETCH_TIMEOUT_MS, dieWithParent: true },
    ).catch((error: unknown) => {
      throw new DevstackError(
        'KAFKA_JARS_FETCH_FAILED',
        `Could not download the Kafka ${jars.version} broker jars with Maven (is Maven Central reachable?)`,
        { cause: error },
      );
    });
    // Under the lock and not complete, so whatever sits there is debris of a manual edit.
    await rm(jars.libsDir, { recursive: true, force: true });
    await rename(downloadDir, jars.libsDir);
  } finally {
    await rm(fetchDir, { recursive: true, force: true });
  }
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  options.log(
    `Fetched Kafka ${jars.version} jars in ${seconds} s (${await sizeInMiB(jars.libsDir)} MiB)`,
  );
}

function brokerPom(version: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.customer-sync.devstack</groupId>
  <artifactId>kafka-broker-jars</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency>
      <groupId>org.apache.kafka</groupId>
      <artifactId>kafka_2.13</artifactId>
      <version>${version}</version>
    </dependency>
    <dependency>
      <groupId>${SLF4J_BINDING.groupId}</groupId>
      <artifactId>${SLF4J_BINDING.artifactId}</artifactId>
      <version>${SLF4J_BINDING.version}</version>
      <scope>runtime</scope>
    </dependency>
  </dependencies>
</project>
`;
}

async function sizeInMiB(dir: string): Promise<string> {
  const files = await readdir(dir);
  const sizes = await Promise.all(files.map(async (file) => (await stat(join(dir, file))).size));
  return (sizes.reduce((total, size) => total + size, 0) / 1024 / 1024).toFixed(0);
}
