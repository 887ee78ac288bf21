import type { StartedNetwork } from 'testcontainers';
import { readServerVersion } from './databases.ts';
import type { RunningKafka, RunningPostgres, RunningSchemaRegistry } from './services.ts';

// @testcontainers/kafka drives Confluent's image (it runs /etc/confluent/docker/run).
// Confluent Platform 8.1 is Apache Kafka 4.1, KRaft only, like the local broker.
const KAFKA_IMAGE = 'confluentinc/cp-kafka:8.1.1';
const KAFKA_VERSION = '4.1 (confluentinc/cp-kafka:8.1.1)';
const KAFKA_CLIENT_PORT = 9093;
const POSTGRES_IMAGE = 'postgres:16-alpine';
// Confluent's own registry, of the same Confluent Platform release as the Kafka image; the one
// version everywhere (docker-compose.yml uses it too, test/unit/docker-compose.test.ts checks).
export const SCHEMA_REGISTRY_IMAGE = 'confluentinc/cp-schema-registry:8.1.1';
const SCHEMA_REGISTRY_PORT = 8081;
/** How containers on the shared network reach the Kafka container (its BROKER listener). */
const KAFKA_NETWORK_ALIAS = 'kafka';
const KAFKA_NETWORK_BOOTSTRAP = `PLAINTEXT://${KAFKA_NETWORK_ALIAS}:9092`;

/**
 * Apache Kafka 4.x in a container, with the same test settings as the local broker. Ryuk, the
 * testcontainers reaper, removes it if this process dies before `stop()`. On `network`, other
 * containers reach it as `kafka:9092` (the Schema Registry container keeps its schemas there).
 */
export async function startKafkaContainer(
  options: { network?: StartedNetwork } = {},
): Promise<RunningKafka> {
  const { KafkaContainer } = await import('@testcontainers/kafka');
  const kafka = new KafkaContainer(KAFKA_IMAGE);
  if (options.network !== undefined) {
    kafka.withNetwork(options.network).withNetworkAliases(KAFKA_NETWORK_ALIAS);
  }
  const container = await kafka
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

/**
 * Confluent Schema Registry in a container, storing its schemas in the Kafka container on
 * `network` (started by startKafkaContainer with the same network).
 */
export async function startSchemaRegistryContainer(
  network: StartedNetwork,
): Promise<RunningSchemaRegistry> {
  const { GenericContainer, Wait } = await import('testcontainers');
  const container = await new GenericContainer(SCHEMA_REGISTRY_IMAGE)
    .withNetwork(network)
    .withExposedPorts(SCHEMA_REGISTRY_PORT)
    .withEnvironment({
      SCHEMA_REGISTRY_HOST_NAME: 'schema-registry',
      SCHEMA_REGISTRY_LISTENERS: `http://0.0.0.0:${SCHEMA_REGISTRY_PORT}`,
      SCHEMA_REGISTRY_KAFKASTORE_BOOTSTRAP_SERVERS: KAFKA_NETWORK_BOOTSTRAP,
      SCHEMA_REGISTRY_HEAP_OPTS: '-Xms128m -Xmx384m',
    })
    .withWaitStrategy(Wait.forHttp('/subjects', SCHEMA_REGISTRY_PORT).forStatusCode(200))
    .start();
  return {
    url: `http://${container.getHost()}:${container.getMappedPort(SCHEMA_REGISTRY_PORT)}`,
    version: `Confluent Schema Registry (${SCHEMA_REGISTRY_IMAGE})`,
    async stop() {
      await container.stop();
    },
  };
}

/** A Docker network for containers that talk to each other (Kafka and its Schema Registry). */
export async function startContainerNetwork(): Promise<StartedNetwork> {
  const { Network } = await import('testcontainers');
  return new Network().start();
}
