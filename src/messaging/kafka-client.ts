import { Kafka, type KafkaConfig, logLevel, type SASLOptions } from 'kafkajs';
import type { Config } from '../config/config.ts';
import type { Logger } from '../observability/logger.ts';
import { checkKafkaTls } from './kafka-tls-check.ts';

const PINO_LEVEL_OF: Record<number, 'error' | 'warn' | 'info' | 'debug'> = {
  [logLevel.ERROR]: 'error',
  [logLevel.WARN]: 'warn',
  [logLevel.INFO]: 'info',
  [logLevel.DEBUG]: 'debug',
};

const IDEMPOTENT_RETRIES_WARNING =
  'Limiting retries for the idempotent producer may invalidate EoS guarantees';

/** kafkajs logs through our logger; its entries carry broker and group facts, never payloads. */
function pinoLogCreator(logger: Logger) {
  return () =>
    ({
      namespace,
      level,
      log,
    }: {
      namespace: string;
      level: number;
      log: { message: string } & Record<string, unknown>;
    }) => {
      const { message, timestamp: _timestamp, logger: _logger, ...rest } = log;
      // Our producers retry a bounded number of times on purpose: the relay and the consumer
      // loop re-send the same rows themselves (at least once), so kafkajs' warning says nothing.
      if (message === IDEMPOTENT_RETRIES_WARNING) return;
      // kafkajs reports every rebalance and retry at error level; that is our retry loop's job.
      const pinoLevel = level === logLevel.ERROR ? 'warn' : (PINO_LEVEL_OF[level] ?? 'info');
      logger[pinoLevel]({ kafkajs: namespace, ...rest }, message);
    };
}

export function createKafka(
  config: Pick<Config, 'kafka'>,
  logger: Logger,
  clientIdSuffix = '',
  /** kafkajs' own retries of connects and metadata requests (start-up probes use none) */
  retry: KafkaConfig['retry'] = { initialRetryTime: 300, retries: 8 },
): Kafka {
  const options: KafkaConfig = {
    clientId: `${config.kafka.clientId}${clientIdSuffix}`,
    brokers: config.kafka.brokers,
    // Node's TLS options: the CA to trust (else the system's) and, for mTLS, our certificate.
    ssl: config.kafka.ssl ? { ...config.kafka.tls } : false,
    logLevel: logLevel.WARN,
    logCreator: pinoLogCreator(logger.child({ component: 'kafkajs' })),
    retry,
  };
  if (config.kafka.sasl) options.sasl = config.kafka.sasl as SASLOptions;
  const kafka = new Kafka(options);
  return config.kafka.ssl
    ? withTlsCheckBeforeConnect(kafka, config.kafka, options.clientId ?? '')
    : kafka;
}

/**
 * Every client of this Kafka checks the brokers' TLS once before its first connect (see
 * kafka-tls-check.ts): a certificate problem is then one line at once, not a minute of retries.
 */
function withTlsCheckBeforeConnect(
  kafka: Kafka,
  settings: Config['kafka'],
  clientId: string,
): Kafka {
  let verified: Promise<unknown> | undefined;
  const check = async () => {
    verified ??= checkKafkaTls(settings.brokers, settings.tls, clientId).then((outcome) => {
      // Nothing answered: kafkajs waits for the brokers; the next connect checks again.
      if (outcome === 'unreachable') verified = undefined;
    });
    await verified;
  };
  const guard = <Client extends { connect(): Promise<void> }>(client: Client): Client => {
    const connect = client.connect.bind(client);
    client.connect = async () => {
      await check();
      await connect();
    };
    return client;
  };
  const producer = kafka.producer.bind(kafka);
  const consumer = kafka.consumer.bind(kafka);
  const admin = kafka.admin.bind(kafka);
  kafka.producer = (producerConfig) => guard(producer(producerConfig));
  kafka.consumer = (consumerConfig) => guard(consumer(consumerConfig));
  kafka.admin = (adminConfig) => guard(admin(adminConfig));
  return kafka;
}
