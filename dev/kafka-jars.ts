import { join } from 'node:path';
import { DevstackError } from './devstack-error.ts';
import { ensureMavenJars, type MavenJarSet } from './maven-jars.ts';

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
export const SLF4J_BINDING = {
  groupId: 'org.apache.logging.log4j',
  artifactId: 'log4j-slf4j-impl',
  version: '2.24.3',
  scope: 'runtime',
} as const;

/**
 * The broker jars of `version`, downloaded once with Maven from Maven Central into the cache
 * (maven-jars.ts).
 */
export async function ensureKafkaJars(options: KafkaJarsOptions): Promise<KafkaJars> {
  const { version } = options;
  assertSupportedVersion(version);
  const jars = await ensureMavenJars(brokerJarSet(options), options.log);
  return { version, ...jars };
}

function brokerJarSet(options: KafkaJarsOptions): MavenJarSet {
  return {
    description: `Apache Kafka ${options.version} broker`,
    dir: join(options.cacheDir, 'kafka', options.version),
    dependencies: [
      { groupId: 'org.apache.kafka', artifactId: 'kafka_2.13', version: options.version },
      SLF4J_BINDING,
    ],
    markerJar: `kafka_2.13-${options.version}.jar`,
    failureCode: 'KAFKA_JARS_FETCH_FAILED',
    alternative: 'set TEST_KAFKA_BROKERS to use a running Kafka',
  };
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
