import { readServerVersion } from './databases.ts';
import type { RunningKafka, RunningPostgres } from './services.ts';

// @testcontainers/kafka drives Confluent's image (it runs /etc/confluent/docker/run).
// Confluent Platform 8.1 is Apache Kafka 4.1, KRaft only, like the local broker.
const KAFKA_IMAGE = 'confluentinc/cp-kafka:8.1.1';
const KAFKA_VERSION = '4.1 (confluentinc/cp-kafka:8.1.1)';
const KAFKA_CLIENT_PORT = 9093;
const POSTGRES_IMAGE = 'postgres:16-alpine';

/**
 * Apache Kafka 4.x in a container, with the same test settings as the local broker. Ryuk, the
 * testcontainers reaper, removes it if this process dies before `stop()`.
 */
export async function startKafkaContainer(): Promise<RunningKafka> {
  const { KafkaContainer } = await import('@testcontainers/kafka');
  const container = await new KafkaContainer(KAFKA_IMAGE)
    .withKraft()
    .withEnvironment({
      KAFKA_HEAP_OPTS: '-Xms256m -Xmx512m',
      KAFKA_NUM_PARTITIONS: '1',
      KAFKA_AUTO_CREATE_TOPICS_ENABLE: 'true',
      KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR: '1',
      KAFKA_TRANSACTION_STATE_LOG_NUM_PARTITIONS: '1',
      KAFKA_SHARE_COORDINATOR_STATE_TOPIC_REPLICATION_FACTOR: '1',
      KAFKA_SHARE_COORDINATOR_STATE_TOPIC_MIN_ISR: '1',
    })
    .start();
  return {
    brokers: `${container.getHost()}:${container.getMappedPort(KAFKA_CLIENT_PORT)}`,
    version: KAFKA_VERSION,
    async stop() {
      await container.stop();
    },
  };
}

/** PostgreSQL in a container, superuser `postgres`, durability off as for the local server. */
export async function startPostgresContainer(): Promise<RunningPostgres> {
  const { PostgreSqlContainer } = await import('@testcontainers/postgresql');
  const container = await new PostgreSqlContainer(POSTGRES_IMAGE)
    .withUsername('postgres')
    .withPassword('postgres')
    .withDatabase('postgres')
    .withCommand([
      'postgres',
      '-c',
      'fsync=off',
      '-c',
      'synchronous_commit=off',
      '-c',
      'full_page_writes=off',
      '-c',
      'max_connections=200',
    ])
    .withTmpFs({ '/var/lib/postgresql/data': 'rw' })
    .start();
  const url = container.getConnectionUri();
  return {
    url,
    version: await readServerVersion(url),
    async stop() {
      await container.stop();
    },
  };
}
