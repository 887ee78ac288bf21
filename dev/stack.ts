import type { StartedNetwork } from 'testcontainers';
import {
  startContainerNetwork,
  startKafkaContainer,
  startPostgresContainer,
  startSchemaRegistryContainer,
} from './container-stack.ts';
import { readServerVersion } from './databases.ts';
import { DevstackError } from './devstack-error.ts';
import { dockerEngineAnswers } from './docker-engine.ts';
import { describeKafkaCluster } from './kafka-cluster-probe.ts';
import { startLocalKafka } from './local-kafka.ts';
import { startLocalPostgres } from './local-postgres.ts';
import { probeSchemaRegistry, startLocalSchemaRegistry } from './local-schema-registry.ts';
import type { RunningKafka, RunningPostgres, RunningSchemaRegistry } from './services.ts';

/** Where a service came from: named by the environment, a container, or a child process. */
export type InfrastructureSource = 'environment' | 'testcontainers' | 'local-process';

/** Real Kafka and Postgres (and a Schema Registry when asked) for tests, `npm run dev` and benchmarks. */
export type Infrastructure = {
  kafkaBrokers: string;
  /** Superuser URL of the `postgres` database; see databases.ts for per-test databases. */
  databaseUrl: string;
  kafkaVersion: string;
  postgresVersion: string;
  /** Confluent Schema Registry API base URL (SCHEMA_REGISTRY_URL); only when asked for. */
  schemaRegistry?: { url: string; version: string } | undefined;
  how: {
    kafka: InfrastructureSource;
    postgres: InfrastructureSource;
    schemaRegistry?: InfrastructureSource | undefined;
  };
  /** Log files of the services started as local processes, by service. */
  logFiles: { kafka?: string; postgres?: string; schemaRegistry?: string };
  /** Stops whatever was started; services named by the environment are left alone. */
  stop(): Promise<void>;
  /** Settles when a Kafka or Postgres process we started ends, whoever ended it, saying which. */
  ended: Promise<string> | undefined;
};

export type InfrastructureOptions = {
  /** Progress lines; silent by default. */
  log?: (line: string) => void;
  /** Parent directory of the local processes' throwaway directories; default os.tmpdir(). */
  workDir?: string;
  /** Where TEST_KAFKA_BROKERS, TEST_DATABASE_URL, TEST_SCHEMA_REGISTRY_URL are read; default process.env. */
  env?: NodeJS.ProcessEnv;
  /**
   * Also provide a Confluent-compatible Schema Registry: TEST_SCHEMA_REGISTRY_URL if set, else
   * Confluent's image next to a Kafka container, else a local Apicurio Registry. Off by default:
   * it costs a JVM start that only the registry tests need.
   */
  schemaRegistry?: boolean;
};

type Provided<T> = { service: T; how: InfrastructureSource };

const EXTERNAL_KAFKA_VERSION = 'unknown (external)';

/**
 * Finds or starts Kafka and Postgres (and, if asked, a Schema Registry), each independently: the
 * service named by TEST_KAFKA_BROKERS / TEST_DATABASE_URL / TEST_SCHEMA_REGISTRY_URL if set, else
 * a container when a Docker engine answers, else a local child process (Kafka jars via Maven +
 * Java, PostgreSQL server binaries, Apicurio Registry via Maven + Java).
 */
export async function startInfrastructure(
  options: InfrastructureOptions = {},
): Promise<Infrastructure> {
  const log = options.log ?? (() => undefined);
  const env = options.env ?? process.env;
  const kafkaBrokers = env.TEST_KAFKA_BROKERS?.trim() || undefined;
  const databaseUrl = env.TEST_DATABASE_URL?.trim() || undefined;
  const wantsRegistry = options.schemaRegistry === true;
  const registryUrl = wantsRegistry ? env.TEST_SCHEMA_REGISTRY_URL?.trim() || undefined : undefined;
  const allNamed =
    kafkaBrokers !== undefined &&
    databaseUrl !== undefined &&
    (!wantsRegistry || registryUrl !== undefined);
  const useContainers = allNamed ? false : await dockerEngineAnswers();
  if (useContainers) log('Docker engine found: starting services with testcontainers');
  // Confluent's registry keeps its schemas in Kafka, so it needs a Kafka container beside it on
  // one network; next to a Kafka named by the environment it runs as a local process instead.
  const network =
    useContainers && wantsRegistry && registryUrl === undefined && kafkaBrokers === undefined
      ? await startContainerNetwork()
      : undefined;

  const kafkaStart = provideKafka(kafkaBrokers, useContainers, options, log, network);
  const [kafka, postgres, registry] = await Promise.allSettled([
    kafkaStart,
    providePostgres(databaseUrl, useContainers, options, log),
    wantsRegistry
      ? provideSchemaRegistry(registryUrl, network, kafkaStart, options, log)
      : Promise.resolve(undefined),
  ]);
  if (
    kafka.status === 'fulfilled' &&
    postgres.status === 'fulfilled' &&
    registry.status === 'fulfilled'
  ) {
    const started = { kafka: kafka.value, postgres: postgres.value, registry: registry.value };
    return {
      kafkaBrokers: started.kafka.service.brokers,
      databaseUrl: started.postgres.service.url,
      kafkaVersion: started.kafka.service.version,
      postgresVersion: started.postgres.service.version,
      schemaRegistry: started.registry && {
        url: started.registry.service.url,
        version: started.registry.service.version,
      },
      how: {
        kafka: started.kafka.how,
        postgres: started.postgres.how,
        schemaRegistry: started.registry?.how,
      },
      ended: firstEnded([
        ['Kafka', started.kafka.service.exited],
        ['PostgreSQL', started.postgres.service.exited],
      ]),
      logFiles: {
        ...(started.kafka.service.logFile ? { kafka: started.kafka.service.logFile } : {}),
        ...(started.postgres.service.logFile ? { postgres: started.postgres.service.logFile } : {}),
        ...(started.registry?.service.logFile
          ? { schemaRegistry: started.registry.service.logFile }
          : {}),
      },
      async stop() {
        // The registry first: Confluent's keeps its schemas in the Kafka container.
        const registryStopped = await Promise.allSettled([started.registry?.service.stop()]);
        const stopped = await Promise.allSettled([
          started.kafka.service.stop(),
          started.postgres.service.stop(),
        ]);
        await network?.stop().catch(() => undefined);
        const failure = [...registryStopped, ...stopped].find(
          (result) => result.status === 'rejected',
        );
        if (failure !== undefined) throw failure.reason;
      },
    };
  }

  // Another one may have started: never leave it running behind a failed start.
  const results = [registry, kafka, postgres] as const;
  for (const result of results) {
    if (result.status === 'fulfilled') await result.value?.service.stop().catch(() => undefined);
  }
  await network?.stop().catch(() => undefined);
  const reasons = results.flatMap((result) =>
    result.status === 'rejected' ? [result.reason] : [],
  );
  for (const reason of reasons.slice(1)) log(`also failed: ${String(reason)}`);
  throw reasons[0];
}

async function provideKafka(
  brokers: string | undefined,
  useContainers: boolean,
  options: InfrastructureOptions,
  log: (line: string) => void,
  network: StartedNetwork | undefined,
): Promise<Provided<RunningKafka>> {
  if (brokers !== undefined) {
    // Fail here, naming the variable, rather than as a timeout in the first test.
    await describeKafkaCluster(brokers, 5_000).catch((error: unknown) => {
      throw new DevstackError(
        'KAFKA_UNREACHABLE',
        `TEST_KAFKA_BROKERS=${brokers} does not answer a metadata request`,
        { cause: error },
      );
    });
    // The Kafka protocol does not tell a client the broker's release.
    const service = { brokers, version: EXTERNAL_KAFKA_VERSION, stop: async () => undefined };
    return { service, how: 'environment' };
  }
  if (useContainers) {
    const service = await startKafkaContainer(network ? { network } : {});
    return { service, how: 'testcontainers' };
  }
  const service = await startLocalKafka({ log, workDir: options.workDir });
  return { service, how: 'local-process' };
}

async function providePostgres(
  url: string | undefined,
  useContainers: boolean,
  options: InfrastructureOptions,
  log: (line: string) => void,
): Promise<Provided<RunningPostgres>> {
  if (url !== undefined) {
    const version = await readServerVersion(url).catch((error: unknown) => {
      throw new DevstackError(
        'POSTGRES_UNREACHABLE',
        `TEST_DATABASE_URL does not accept connections (${redactPassword(url)})`,
        { cause: error },
      );
    });
    return { service: { url, version, stop: async () => undefined }, how: 'environment' };
  }
  if (useContainers) return { service: await startPostgresContainer(), how: 'testcontainers' };
  const service = await startLocalPostgres({ log, workDir: options.workDir });
  return { service, how: 'local-process' };
}

async function provideSchemaRegistry(
  url: string | undefined,
  network: StartedNetwork | undefined,
  kafkaStart: Promise<Provided<RunningKafka>>,
  options: InfrastructureOptions,
  log: (line: string) => void,
): Promise<Provided<RunningSchemaRegistry>> {
  if (url !== undefined) {
    await probeSchemaRegistry(url, 5_000).catch((error: unknown) => {
      throw new DevstackError(
        'SCHEMA_REGISTRY_UNREACHABLE',
        `TEST_SCHEMA_REGISTRY_URL=${redactPassword(url)} does not serve the Confluent Schema Registry API (GET /subjects)`,
        { cause: error },
      );
    });
    const service = { url, version: 'unknown (external)', stop: async () => undefined };
    return { service, how: 'environment' };
  }
  if (network !== undefined) {
    await kafkaStart;
    return { service: await startSchemaRegistryContainer(network), how: 'testcontainers' };
  }
  const service = await startLocalSchemaRegistry({ log, workDir: options.workDir });
  return { service, how: 'local-process' };
}

function firstEnded(processes: Array<[string, Promise<string> | undefined]>) {
  const watched = processes.flatMap(([name, exited]) =>
    exited === undefined ? [] : [exited.then((how) => `${name} ${how}`)],
  );
  return watched.length === 0 ? undefined : Promise.race(watched);
}

function redactPassword(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(not a URL)';
  }
}
