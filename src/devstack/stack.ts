import { startKafkaContainer, startPostgresContainer } from './container-stack.ts';
import { readServerVersion } from './databases.ts';
import { DevstackError } from './devstack-error.ts';
import { dockerEngineAnswers } from './docker-engine.ts';
import { describeKafkaCluster } from './kafka-cluster-probe.ts';
import { startLocalKafka } from './local-kafka.ts';
import { startLocalPostgres } from './local-postgres.ts';
import type { RunningKafka, RunningPostgres } from './services.ts';

/** Where a service came from: named by the environment, a container, or a child process. */
export type InfrastructureSource = 'environment' | 'testcontainers' | 'local-process';

/** Real Kafka and Postgres for tests, `npm run dev` and benchmarks. */
export type Infrastructure = {
  kafkaBrokers: string;
  /** Superuser URL of the `postgres` database; see databases.ts for per-test databases. */
  databaseUrl: string;
  kafkaVersion: string;
  postgresVersion: string;
  how: { kafka: InfrastructureSource; postgres: InfrastructureSource };
  /** Stops whatever was started; services named by the environment are left alone. */
  stop(): Promise<void>;
};

export type InfrastructureOptions = {
  /** Progress lines; silent by default. */
  log?: (line: string) => void;
  /** Parent directory of the local processes' throwaway directories; default os.tmpdir(). */
  workDir?: string;
  /** Where TEST_KAFKA_BROKERS and TEST_DATABASE_URL are read; default process.env. */
  env?: NodeJS.ProcessEnv;
};

type Provided<T> = { service: T; how: InfrastructureSource };

const EXTERNAL_KAFKA_VERSION = 'unknown (external)';

/**
 * Finds or starts Kafka and Postgres, each independently: the service named by
 * TEST_KAFKA_BROKERS / TEST_DATABASE_URL if set, else a container when a Docker engine answers,
 * else a local child process (Kafka jars via Maven + Java, PostgreSQL server binaries).
 */
export async function startInfrastructure(
  options: InfrastructureOptions = {},
): Promise<Infrastructure> {
  const log = options.log ?? (() => undefined);
  const env = options.env ?? process.env;
  const kafkaBrokers = env.TEST_KAFKA_BROKERS?.trim() || undefined;
  const databaseUrl = env.TEST_DATABASE_URL?.trim() || undefined;
  const useContainers =
    kafkaBrokers !== undefined && databaseUrl !== undefined ? false : await dockerEngineAnswers();
  if (useContainers) log('Docker engine found: starting services with testcontainers');

  const [kafka, postgres] = await Promise.allSettled([
    provideKafka(kafkaBrokers, useContainers, options, log),
    providePostgres(databaseUrl, useContainers, options, log),
  ]);
  if (kafka.status === 'fulfilled' && postgres.status === 'fulfilled') {
    const started = { kafka: kafka.value, postgres: postgres.value };
    return {
      kafkaBrokers: started.kafka.service.brokers,
      databaseUrl: started.postgres.service.url,
      kafkaVersion: started.kafka.service.version,
      postgresVersion: started.postgres.service.version,
      how: { kafka: started.kafka.how, postgres: started.postgres.how },
      async stop() {
        const stopped = await Promise.allSettled([
          started.kafka.service.stop(),
          started.postgres.service.stop(),
        ]);
        const failure = stopped.find((result) => result.status === 'rejected');
        if (failure !== undefined) throw failure.reason;
      },
    };
  }

  // The other one may have started: never leave it running behind a failed start.
  await Promise.allSettled(
    [kafka, postgres].map((result) =>
      result.status === 'fulfilled' ? result.value.service.stop() : undefined,
    ),
  );
  const reasons = [kafka, postgres].flatMap((result) =>
    result.status === 'rejected' ? [result.reason] : [],
  );
  if (reasons.length > 1) log(`Postgres failed too: ${String(reasons[1])}`);
  throw reasons[0];
}

async function provideKafka(
  brokers: string | undefined,
  useContainers: boolean,
  options: InfrastructureOptions,
  log: (line: string) => void,
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
  if (useContainers) return { service: await startKafkaContainer(), how: 'testcontainers' };
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

function redactPassword(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(not a URL)';
  }
}
