import { join } from 'node:path';
import { DEFAULT_KAFKA_VERSION, SLF4J_BINDING } from './kafka-jars.ts';
import {
  ensureMavenJars,
  type MavenJarSet,
  type MavenJars,
  mavenJarsFetched,
} from './maven-jars.ts';

/** The Debezium JDBC sink connector release the benchmark compares with (its peer). */
export const DEBEZIUM_JDBC_SINK_VERSION = '3.3.1.Final';
/** The PostgreSQL JDBC driver Debezium 3.3.1 is built and tested against. */
const POSTGRES_JDBC_DRIVER_VERSION = '42.7.7';

export type KafkaConnectJarsOptions = {
  /** Kafka Connect runtime version: the broker's, default 4.1.1 */
  kafkaVersion?: string;
  /** Root of the git-ignored cache; jars land in `<cacheDir>/kafka-connect/<versions>/libs`. */
  cacheDir: string;
  log?: (line: string) => void;
};

/**
 * Kafka Connect's runtime (standalone mode), its JSON converter, and the Debezium JDBC sink
 * connector with the PostgreSQL driver, all on one classpath: Connect finds the connector there
 * as it would under plugin.path, without a plugin directory to lay out.
 */
function connectJarSet(options: KafkaConnectJarsOptions): MavenJarSet {
  const kafkaVersion = options.kafkaVersion ?? DEFAULT_KAFKA_VERSION;
  return {
    description: `Kafka Connect ${kafkaVersion} with the Debezium JDBC sink ${DEBEZIUM_JDBC_SINK_VERSION}`,
    dir: join(
      options.cacheDir,
      'kafka-connect',
      `${kafkaVersion}-debezium-jdbc-${DEBEZIUM_JDBC_SINK_VERSION}`,
    ),
    dependencies: [
      { groupId: 'org.apache.kafka', artifactId: 'connect-runtime', version: kafkaVersion },
      { groupId: 'org.apache.kafka', artifactId: 'connect-json', version: kafkaVersion },
      {
        groupId: 'io.debezium',
        artifactId: 'debezium-connector-jdbc',
        version: DEBEZIUM_JDBC_SINK_VERSION,
      },
      {
        groupId: 'org.postgresql',
        artifactId: 'postgresql',
        version: POSTGRES_JDBC_DRIVER_VERSION,
      },
      SLF4J_BINDING,
    ],
    markerJar: `debezium-connector-jdbc-${DEBEZIUM_JDBC_SINK_VERSION}.jar`,
    failureCode: 'KAFKA_CONNECT_JARS_FETCH_FAILED',
    alternative: 'run the benchmark without --peers',
  };
}

export function ensureKafkaConnectJars(options: KafkaConnectJarsOptions): Promise<MavenJars> {
  return ensureMavenJars(connectJarSet(options), options.log ?? (() => {}));
}

/** Whether the jars are in the cache already (the benchmark then runs the peer by default). */
export function kafkaConnectJarsCached(options: KafkaConnectJarsOptions): boolean {
  return mavenJarsFetched(connectJarSet(options));
}
