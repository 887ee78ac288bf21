import { Kafka, type KafkaConfig, logLevel, type SASLOptions } from 'kafkajs';
import type { Config } from '../config/config.ts';
import type { Logger } from '../observability/logger.ts';

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
    ssl: config.kafka.ssl,
    logLevel: logLevel.WARN,
    logCreator: pinoLogCreator(logger.child({ component: 'kafkajs' })),
    retry,
  };
  if (config.kafka.sasl) options.sasl = config.kafka.sasl as SASLOptions;
  return new Kafka(options);
}
