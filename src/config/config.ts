import { z } from 'zod';
import {
  databaseTls,
  kafkaTls,
  SECURITY_VARIABLES,
  securityIssues,
  tenantTokens,
} from './security-variables.ts';
import { booleanText } from './text-values.ts';

/**
 * The service's whole configuration, read from the environment once at start-up (SPEC §8).
 * Nothing else reads process.env: everything the code needs arrives through a Config.
 */

const integerText = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, { message: 'must be a whole number' })
    .transform(Number)
    .pipe(
      z
        .number()
        .int()
        .min(min, { message: `must be at least ${min}` })
        .max(max, { message: `must be at most ${max}` }),
    );

const brokerList = z
  .string()
  .min(1, { message: 'is required' })
  .transform((text) =>
    text
      .split(',')
      .map((broker) => broker.trim())
      .filter(Boolean),
  )
  .pipe(
    z
      .array(
        z.string().regex(/^[A-Za-z0-9.-]+:\d{1,5}$/, {
          message: 'must list brokers as host:port,host:port',
        }),
      )
      .min(1, { message: 'is required' }),
  );

/** OpenTelemetry's standard sampler names (OTEL_TRACES_SAMPLER). */
export const TRACE_SAMPLERS = [
  'always_on',
  'always_off',
  'traceidratio',
  'parentbased_always_on',
  'parentbased_always_off',
  'parentbased_traceidratio',
] as const;

/** The OTLP/HTTP encoding the service sends: JSON (the exporter it loads speaks only that). */
const otlpProtocol = z.enum(['http/json'], {
  message: 'must be http/json (the only OTLP protocol this service sends)',
});

const httpUrl = z.url({ protocol: /^https?$/, message: 'must be an http(s) URL' });
const postgresUrl = z.url({ protocol: /^postgres(ql)?$/, message: 'must be a postgres:// URL' });
const topicName = z
  .string()
  .regex(/^[A-Za-z0-9._-]{1,249}$/, { message: 'must be a valid Kafka topic name' });
const name = z.string().regex(/^[A-Za-z0-9._-]{1,255}$/, {
  message: 'must be letters, digits, dot, dash or underscore',
});

/**
 * SPEC §4.5, nothing waits for ever: the server-side limits of every database session.
 * - lock 10 s: a customer's lock is held for one chunk's transaction (milliseconds, about a
 *   second under load); waiting 10 s means its holder is stuck or a migration's lock is
 *   queued, and the chunk does better to back off and retry than to pile up behind it
 *   (deadlocks are detected sooner, at Postgres' deadlock_timeout of 1 s).
 * - statement 30 s: a healthy statement takes milliseconds (the largest, a 500-event chunk's
 *   upsert or a 10,000-row prune batch, well under a second); below the consumer's 60 s
 *   attempt deadline, so the server ends a runaway statement before the client gives up.
 * - migration statements 15 min: an index built on a large processed_events takes minutes,
 *   and a migration cut short is rolled back and tried again at the next start.
 */
export const DATABASE_TIMEOUT_DEFAULTS = {
  lockTimeoutMs: 10_000,
  statementTimeoutMs: 30_000,
  migrationStatementTimeoutMs: 900_000,
} as const;

const environmentSchema = z
  .object({
    KAFKA_BROKERS: brokerList.optional(),
    KAFKA_GROUP_ID: name.default('customer-sync'),
    KAFKA_CLIENT_ID: name.default('customer-sync'),
    KAFKA_SSL: booleanText.default(false),
    KAFKA_SASL_MECHANISM: z
      .enum(['plain', 'scram-sha-256', 'scram-sha-512'], {
        message: 'must be plain, scram-sha-256 or scram-sha-512',
      })
      .optional(),
    KAFKA_SASL_USERNAME: z.string().min(1).optional(),
    KAFKA_SASL_PASSWORD: z.string().min(1).optional(),
    KAFKA_CREATE_TOPICS: booleanText.default(false),
    KAFKA_TOPIC_PARTITIONS: integerText(1, 10_000).default(6),
    KAFKA_REPLICATION_FACTOR: integerText(1, 10).default(1),
    TOPIC_UPDATE_REQUESTED: topicName.default('customer.update.requested'),
    TOPIC_CUSTOMER_UPDATED: topicName.default('customer.updated'),
    TOPIC_DEAD_LETTER: topicName.default('customer.update.requested.dlq'),
    DATABASE_URL: postgresUrl.optional(),
    DATABASE_POOL_MAX: integerText(2, 500).default(10),
    MIGRATE_ON_START: booleanText.default(false),
    DATABASE_LOCK_TIMEOUT_MS: integerText(1, 600_000).default(
      DATABASE_TIMEOUT_DEFAULTS.lockTimeoutMs,
    ),
    DATABASE_STATEMENT_TIMEOUT_MS: integerText(100, 3_600_000).default(
      DATABASE_TIMEOUT_DEFAULTS.statementTimeoutMs,
    ),
    // 0: no limit (Postgres' own default), for a migration known to run long.
    DATABASE_MIGRATION_STATEMENT_TIMEOUT_MS: integerText(0, 86_400_000).default(
      DATABASE_TIMEOUT_DEFAULTS.migrationStatementTimeoutMs,
    ),
    SCHEMA_REGISTRY_URL: httpUrl.optional(),
    SCHEMA_REGISTRY_USERNAME: z.string().min(1).optional(),
    SCHEMA_REGISTRY_PASSWORD: z.string().min(1).optional(),
    SCHEMA_REGISTRY_REQUIRED: booleanText.default(false),
    SCHEMA_REGISTRY_TIMEOUT_MS: integerText(100, 120_000).default(10_000),
    LENDING_API_URL: httpUrl.optional(),
    // SPEC §6: bearer tokens for the lending systems; secrets, so never echoed in a problem.
    LENDING_API_TOKEN: z.string().min(1, { message: 'must not be empty' }).optional(),
    LENDING_API_TOKENS: tenantTokens.optional(),
    LENDING_API_TIMEOUT_MS: integerText(100, 300_000).default(5_000),
    ENRICHMENT_CONCURRENCY: integerText(0, 256).default(4),
    ENRICHMENT_POLL_INTERVAL_MS: integerText(10, 60_000).default(1_000),
    ENRICHMENT_LEASE_MS: integerText(1_000, 3_600_000).default(30_000),
    ENRICHMENT_DEADLINE_MS: integerText(1_000, 2_592_000_000).default(3_600_000),
    ENRICHMENT_RETRY_INITIAL_DELAY_MS: integerText(1, 600_000).default(1_000),
    ENRICHMENT_RETRY_MAX_DELAY_MS: integerText(1, 3_600_000).default(300_000),
    ENRICHMENT_BREAKER_FAILURE_RATE_PERCENT: integerText(1, 100).default(50),
    ENRICHMENT_BREAKER_MINIMUM_CALLS: integerText(1, 10_000).default(10),
    ENRICHMENT_BREAKER_WINDOW_CALLS: integerText(1, 10_000).default(20),
    ENRICHMENT_BREAKER_OPEN_MS: integerText(100, 3_600_000).default(30_000),
    HTTP_PORT: integerText(0, 65_535).default(8080),
    LOG_LEVEL: z
      .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], {
        message: 'must be one of fatal, error, warn, info, debug, trace, silent',
      })
      .default('info'),
    SHUTDOWN_TIMEOUT_MS: integerText(1_000, 600_000).default(30_000),
    // How long start-up waits for an unreachable Postgres or Kafka: longer than a restart or a
    // failover takes, so that a replica started meanwhile need not crash-loop. 0: for ever.
    STARTUP_TIMEOUT_MS: integerText(0, 86_400_000).default(300_000),
    MAX_MESSAGE_BYTES: integerText(1_024, 10_485_760).default(65_536),
    // Partitions are cheap to handle at once (kafkajs workers): at light load a fetch's small
    // chunks then share one transaction instead of waiting for a second wave of workers. What
    // costs memory and connections is transactions in flight, limited on their own.
    CONSUMER_PARTITIONS_CONCURRENTLY: integerText(1, 256).default(16),
    CONSUMER_TRANSACTIONS_CONCURRENTLY: integerText(1, 256).default(4),
    // 256 KiB is ~800 typical events, more than a chunk: fetching 1 MiB per partition held
    // 30-40 MiB more of fetched messages for no throughput (SPEC §9, docs/performance.md).
    // A record batch larger than this still arrives, but alone in its fetch (Kafka's rule):
    // raise it when producers write larger batches than Kafka's default 16 KiB batch.size.
    CONSUMER_MAX_BYTES_PER_PARTITION: integerText(1_024, 104_857_600).default(262_144),
    // 6 s is Kafka's default group.min.session.timeout.ms.
    KAFKA_SESSION_TIMEOUT_MS: integerText(6_000, 1_800_000).default(30_000),
    RETRY_INITIAL_DELAY_MS: integerText(1, 60_000).default(200),
    RETRY_MAX_DELAY_MS: integerText(1, 600_000).default(30_000),
    OUTBOX_BATCH_SIZE: integerText(1, 10_000).default(1_000),
    OUTBOX_POLL_INTERVAL_MS: integerText(1, 60_000).default(100),
    // SPEC §9: relay capacity grows with replicas. Every replica must run with the same count
    // (a replica with another count waits until none is left: README "Sharded relay"); 12
    // shares evenly among 1, 2, 3, 4 or 6 replicas.
    OUTBOX_SHARDS: integerText(1, 256).default(12),
    // How often a relay looks at who relays and rebalances its shards: a dead replica's shards
    // are taken within about this long.
    OUTBOX_SHARD_REBALANCE_MS: integerText(100, 60_000).default(2_000),
    PROCESSED_EVENTS_RETENTION_DAYS: integerText(1, 3_650).default(30),
    // lz4 by measurement (README "Compression"): 3.7x fewer bytes than none for no more CPU in
    // the service, since kafkajs' JavaScript CRC32C then runs over the smaller batch.
    KAFKA_COMPRESSION: z
      .enum(['none', 'gzip', 'snappy', 'lz4', 'zstd'], {
        message: 'must be one of none, gzip, snappy, lz4, zstd',
      })
      .default('lz4'),
    // Kafka's defaults: the Java producer's max.request.size, just under the broker's
    // message.max.bytes (1048588); the broker refuses a record batch above its own limit.
    KAFKA_MAX_REQUEST_BYTES: integerText(131_072, 104_857_600).default(1_048_576),
    // Half the broker's default message limit: the customer.updated event around the
    // document, its headers and a Kafka record's framing fit with room to spare (README).
    CUSTOMER_MAX_DOCUMENT_BYTES: integerText(65_536, 104_857_600).default(524_288),
    // Transport security and credentials (security-variables.ts, SECURITY.md).
    ...SECURITY_VARIABLES,
    // Liveness (README "Operating it"): above the consumer's 60 s apply attempt deadline, so
    // one wedged attempt that its retry then clears is not yet a stuck replica.
    LIVENESS_PROGRESS_TIMEOUT_MS: integerText(1_000, 3_600_000).default(180_000),
    LIVENESS_EVENT_LOOP_BLOCKED_MS: integerText(50, 600_000).default(5_000),
    CONSUMER_LAG_SAMPLE_INTERVAL_MS: integerText(100, 600_000).default(10_000),
    // OpenTelemetry's own variables (README "Tracing"); tracing is off unless an endpoint is set.
    OTEL_SDK_DISABLED: booleanText.default(false),
    OTEL_TRACES_EXPORTER: z
      .enum(['otlp', 'none'], { message: 'must be otlp or none' })
      .default('otlp'),
    OTEL_EXPORTER_OTLP_ENDPOINT: httpUrl.optional(),
    OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: httpUrl.optional(),
    OTEL_EXPORTER_OTLP_PROTOCOL: otlpProtocol.optional(),
    OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: otlpProtocol.optional(),
    OTEL_SERVICE_NAME: z.string().min(1).default('customer-sync'),
    OTEL_TRACES_SAMPLER: z
      .enum(TRACE_SAMPLERS, { message: `must be one of ${TRACE_SAMPLERS.join(', ')}` })
      .default('parentbased_always_on'),
    OTEL_TRACES_SAMPLER_ARG: z
      .string()
      .regex(/^(0(\.\d+)?|1(\.0+)?)$/, { message: 'must be a ratio between 0 and 1' })
      .transform(Number)
      .optional(),
    OTEL_BSP_SCHEDULE_DELAY: integerText(1, 600_000).default(5_000),
  })
  .superRefine((env, context) => {
    for (const issue of securityIssues(env)) context.addIssue({ code: 'custom', ...issue });
    const sasl = [env.KAFKA_SASL_MECHANISM, env.KAFKA_SASL_USERNAME, env.KAFKA_SASL_PASSWORD];
    if (sasl.some((value) => value !== undefined) && sasl.some((value) => value === undefined)) {
      for (const [key, value] of [
        ['KAFKA_SASL_MECHANISM', env.KAFKA_SASL_MECHANISM],
        ['KAFKA_SASL_USERNAME', env.KAFKA_SASL_USERNAME],
        ['KAFKA_SASL_PASSWORD', env.KAFKA_SASL_PASSWORD],
      ] as const) {
        if (value === undefined) {
          context.addIssue({
            code: 'custom',
            path: [key],
            message: 'is required when any KAFKA_SASL_* is set',
          });
        }
      }
    }
    if (env.ENRICHMENT_RETRY_MAX_DELAY_MS < env.ENRICHMENT_RETRY_INITIAL_DELAY_MS) {
      context.addIssue({
        code: 'custom',
        path: ['ENRICHMENT_RETRY_MAX_DELAY_MS'],
        message: 'must not be below ENRICHMENT_RETRY_INITIAL_DELAY_MS',
      });
    }
    if (env.ENRICHMENT_BREAKER_MINIMUM_CALLS > env.ENRICHMENT_BREAKER_WINDOW_CALLS) {
      context.addIssue({
        code: 'custom',
        path: ['ENRICHMENT_BREAKER_MINIMUM_CALLS'],
        message: 'must not be above ENRICHMENT_BREAKER_WINDOW_CALLS',
      });
    }
    if (
      (env.SCHEMA_REGISTRY_USERNAME === undefined) !==
      (env.SCHEMA_REGISTRY_PASSWORD === undefined)
    ) {
      const unset =
        env.SCHEMA_REGISTRY_USERNAME === undefined
          ? 'SCHEMA_REGISTRY_USERNAME'
          : 'SCHEMA_REGISTRY_PASSWORD';
      context.addIssue({
        code: 'custom',
        path: [unset],
        message: 'is required when the other SCHEMA_REGISTRY_USERNAME/PASSWORD is set',
      });
    }
    if (env.SCHEMA_REGISTRY_REQUIRED && env.SCHEMA_REGISTRY_URL === undefined) {
      context.addIssue({
        code: 'custom',
        path: ['SCHEMA_REGISTRY_URL'],
        message: 'is required when SCHEMA_REGISTRY_REQUIRED is true',
      });
    }
    if (
      env.KAFKA_MAX_REQUEST_BYTES >= 131_072 &&
      env.CUSTOMER_MAX_DOCUMENT_BYTES > env.KAFKA_MAX_REQUEST_BYTES / 2
    ) {
      context.addIssue({
        code: 'custom',
        path: ['CUSTOMER_MAX_DOCUMENT_BYTES'],
        message:
          'must be at most half of KAFKA_MAX_REQUEST_BYTES, so that an announcement of the document always fits a request',
      });
    }
    if (env.DATABASE_LOCK_TIMEOUT_MS >= env.DATABASE_STATEMENT_TIMEOUT_MS) {
      // A lock wait counts toward the statement's time: a lock timeout at or above the
      // statement timeout would never fire.
      context.addIssue({
        code: 'custom',
        path: ['DATABASE_LOCK_TIMEOUT_MS'],
        message: 'must be below DATABASE_STATEMENT_TIMEOUT_MS',
      });
    }
    if (env.RETRY_MAX_DELAY_MS < env.RETRY_INITIAL_DELAY_MS) {
      context.addIssue({
        code: 'custom',
        path: ['RETRY_MAX_DELAY_MS'],
        message: 'must not be below RETRY_INITIAL_DELAY_MS',
      });
    }
  });

type Environment = z.output<typeof environmentSchema>;

/** KAFKA_COMPRESSION: how our producers compress what they send. */
export type OutputCompression = Environment['KAFKA_COMPRESSION'];

/**
 * The service's configuration, grouped per component: what `toConfig` makes of the validated
 * environment, so the type is the schema's output and is never written twice.
 */
export type Config = z.output<typeof configSchema>;

export type ConfigResult = { ok: true; config: Config } | { ok: false; problems: string[] };

/** What a command connects to; the service needs both, `migrate` only the database. */
export type ConfigNeed = 'kafka' | 'database' | 'schemaRegistry';

const REQUIRED_BY_NEED: Record<ConfigNeed, keyof Environment> = {
  kafka: 'KAFKA_BROKERS',
  database: 'DATABASE_URL',
  schemaRegistry: 'SCHEMA_REGISTRY_URL',
};

/**
 * Validates the environment. Problems name the variable and the rule, never the value: a
 * mistyped secret must not end up in a log.
 */
export function loadConfig(
  env: Record<string, string | undefined>,
  needs: readonly ConfigNeed[] = ['kafka', 'database'],
): ConfigResult {
  const present = Object.fromEntries(
    Object.entries(env).filter(([, value]) => value !== undefined && value !== ''),
  );
  const parsed = configSchema.safeParse(present);
  const missing = needs
    .map((need) => REQUIRED_BY_NEED[need])
    .filter((variable) => present[variable] === undefined)
    .map((variable) => `${variable} is required`);
  if (!parsed.success || missing.length > 0) {
    const issues = parsed.success ? [] : parsed.error.issues;
    const problems = issues.map((issue) => {
      const variable = String(issue.path[0] ?? 'environment');
      const message =
        issue.code === 'invalid_type' && issue.input === undefined ? 'is required' : issue.message;
      return `${variable} ${message}`;
    });
    return { ok: false, problems: [...new Set([...missing, ...problems])] };
  }
  return { ok: true, config: parsed.data };
}

/** The environment, validated, made into the configuration (the Config type is its output). */
const configSchema = environmentSchema.transform(toConfig);

function toConfig(env: Environment) {
  const tracesUrl = otlpTracesUrl(env);
  return {
    kafka: {
      brokers: env.KAFKA_BROKERS ?? [],
      groupId: env.KAFKA_GROUP_ID,
      clientId: env.KAFKA_CLIENT_ID,
      ssl: env.KAFKA_SSL,
      /** KAFKA_SSL_CA / KAFKA_SSL_CERT / KAFKA_SSL_KEY, read from their files; with `ssl` only */
      tls: kafkaTls(env),
      ...(env.KAFKA_SASL_MECHANISM && env.KAFKA_SASL_USERNAME && env.KAFKA_SASL_PASSWORD
        ? {
            sasl: {
              mechanism: env.KAFKA_SASL_MECHANISM,
              username: env.KAFKA_SASL_USERNAME,
              /** never logged */
              password: env.KAFKA_SASL_PASSWORD,
            },
          }
        : {}),
      createTopics: env.KAFKA_CREATE_TOPICS,
      topicPartitions: env.KAFKA_TOPIC_PARTITIONS,
      replicationFactor: env.KAFKA_REPLICATION_FACTOR,
      partitionsConsumedConcurrently: env.CONSUMER_PARTITIONS_CONCURRENTLY,
      /** CONSUMER_TRANSACTIONS_CONCURRENTLY: chunk transactions in flight at once per replica */
      transactionsConcurrently: env.CONSUMER_TRANSACTIONS_CONCURRENTLY,
      maxBytesPerPartition: env.CONSUMER_MAX_BYTES_PER_PARTITION,
      /** how long the group waits for a replica that stopped heartbeating (kill -9) */
      sessionTimeoutMs: env.KAFKA_SESSION_TIMEOUT_MS,
      /** KAFKA_COMPRESSION: the codec of every record batch we produce */
      compression: env.KAFKA_COMPRESSION,
      /** KAFKA_MAX_REQUEST_BYTES: sends are split to stay under it (SPEC §4.4) */
      maxRequestBytes: env.KAFKA_MAX_REQUEST_BYTES,
    },
    topics: {
      updateRequested: env.TOPIC_UPDATE_REQUESTED,
      customerUpdated: env.TOPIC_CUSTOMER_UPDATED,
      deadLetter: env.TOPIC_DEAD_LETTER,
    },
    database: {
      url: env.DATABASE_URL ?? '',
      /** DATABASE_SSL_MODE / DATABASE_SSL_CA: every connection the service and its CLI open */
      tls: databaseTls(env),
      poolMax: env.DATABASE_POOL_MAX,
      migrateOnStart: env.MIGRATE_ON_START,
      processedEventsRetentionDays: env.PROCESSED_EVENTS_RETENTION_DAYS,
      /** DATABASE_LOCK_TIMEOUT_MS, DATABASE_STATEMENT_TIMEOUT_MS: every pool's session limits */
      timeouts: {
        lockTimeoutMs: env.DATABASE_LOCK_TIMEOUT_MS,
        statementTimeoutMs: env.DATABASE_STATEMENT_TIMEOUT_MS,
      },
      /** DATABASE_MIGRATION_STATEMENT_TIMEOUT_MS; 0 = none */
      migrationStatementTimeoutMs: env.DATABASE_MIGRATION_STATEMENT_TIMEOUT_MS,
    },
    schemaRegistry: {
      /** SPEC §1, §8: without it, messages are plain JSON in and out */
      ...(env.SCHEMA_REGISTRY_URL ? { url: env.SCHEMA_REGISTRY_URL } : {}),
      /** SCHEMA_REGISTRY_REQUIRED: dead-letter values that are not in the registry's wire format */
      required: env.SCHEMA_REGISTRY_REQUIRED,
      /** HTTP basic auth (Confluent Cloud: API key and secret); never logged */
      ...(env.SCHEMA_REGISTRY_USERNAME && env.SCHEMA_REGISTRY_PASSWORD
        ? {
            auth: {
              username: env.SCHEMA_REGISTRY_USERNAME,
              password: env.SCHEMA_REGISTRY_PASSWORD,
            },
          }
        : {}),
      timeoutMs: env.SCHEMA_REGISTRY_TIMEOUT_MS,
    },
    /** SPEC §6: where the lending systems are, and their credentials; never logged */
    lendingApi: {
      /** LENDING_API_URL: the lending system of tenants that name none of their own */
      ...(env.LENDING_API_URL ? { url: env.LENDING_API_URL } : {}),
      /** LENDING_API_TOKEN: the bearer token for tenants without their own */
      ...(env.LENDING_API_TOKEN ? { defaultToken: env.LENDING_API_TOKEN } : {}),
      /** LENDING_API_TOKENS: tenant id -> bearer token (a Map: own entries only) */
      tenantTokens: env.LENDING_API_TOKENS ?? new Map<string, string>(),
      timeoutMs: env.LENDING_API_TIMEOUT_MS,
      /** LENDING_API_ALLOW_INSECURE_HTTP: plain http:// lending systems (development only) */
      allowInsecureHttp: env.LENDING_API_ALLOW_INSECURE_HTTP,
    },
    /** SPEC §6: the enrichment job worker inside the service */
    enrichment: {
      /** jobs worked on at once in this process; 0 runs no worker here */
      concurrency: env.ENRICHMENT_CONCURRENCY,
      pollIntervalMs: env.ENRICHMENT_POLL_INTERVAL_MS,
      leaseMs: env.ENRICHMENT_LEASE_MS,
      deadlineMs: env.ENRICHMENT_DEADLINE_MS,
      retry: {
        initialDelayMs: env.ENRICHMENT_RETRY_INITIAL_DELAY_MS,
        maxDelayMs: env.ENRICHMENT_RETRY_MAX_DELAY_MS,
      },
      breaker: {
        failureRateThreshold: env.ENRICHMENT_BREAKER_FAILURE_RATE_PERCENT / 100,
        minimumCalls: env.ENRICHMENT_BREAKER_MINIMUM_CALLS,
        windowSize: env.ENRICHMENT_BREAKER_WINDOW_CALLS,
        openDurationMs: env.ENRICHMENT_BREAKER_OPEN_MS,
      },
    },
    /** HTTP_HOST unset: every interface (what a container's probes need) */
    http: { port: env.HTTP_PORT, ...(env.HTTP_HOST !== undefined ? { host: env.HTTP_HOST } : {}) },
    logLevel: env.LOG_LEVEL,
    shutdownTimeoutMs: env.SHUTDOWN_TIMEOUT_MS,
    /** how long start-up waits for an unreachable Postgres or Kafka; 0 waits for ever */
    startUpTimeoutMs: env.STARTUP_TIMEOUT_MS,
    maxMessageBytes: env.MAX_MESSAGE_BYTES,
    /** CUSTOMER_MAX_DOCUMENT_BYTES: an event that would grow a customer past it is dead-lettered */
    customerMaxDocumentBytes: env.CUSTOMER_MAX_DOCUMENT_BYTES,
    retry: { initialDelayMs: env.RETRY_INITIAL_DELAY_MS, maxDelayMs: env.RETRY_MAX_DELAY_MS },
    outbox: {
      batchSize: env.OUTBOX_BATCH_SIZE,
      pollIntervalMs: env.OUTBOX_POLL_INTERVAL_MS,
      shards: env.OUTBOX_SHARDS,
      rebalanceMs: env.OUTBOX_SHARD_REBALANCE_MS,
    },
    /** observability/liveness-rules.ts; the lag sampler doubles as the broker probe */
    liveness: {
      progressTimeoutMs: env.LIVENESS_PROGRESS_TIMEOUT_MS,
      eventLoopBlockedMs: env.LIVENESS_EVENT_LOOP_BLOCKED_MS,
      lagSampleIntervalMs: env.CONSUMER_LAG_SAMPLE_INTERVAL_MS,
    },
    /** OpenTelemetry tracing: absent unless an OTLP endpoint is configured and not disabled */
    ...(tracesUrl !== undefined && !env.OTEL_SDK_DISABLED && env.OTEL_TRACES_EXPORTER === 'otlp'
      ? {
          tracing: {
            tracesUrl,
            serviceName: env.OTEL_SERVICE_NAME,
            sampler: env.OTEL_TRACES_SAMPLER,
            /** the ratio of the traceidratio samplers; 1 unless set */
            samplerRatio: env.OTEL_TRACES_SAMPLER_ARG ?? 1,
            /** how long finished spans wait to be exported together */
            scheduleDelayMs: env.OTEL_BSP_SCHEDULE_DELAY,
          },
        }
      : {}),
  };
}

/**
 * The OpenTelemetry specification's rule: the signal's own endpoint is used as it is; the
 * general one gets the signal's path appended.
 */
function otlpTracesUrl(env: Environment): string | undefined {
  if (env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) return env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
  if (!env.OTEL_EXPORTER_OTLP_ENDPOINT) return undefined;
  return `${env.OTEL_EXPORTER_OTLP_ENDPOINT.replace(/\/+$/, '')}/v1/traces`;
}
