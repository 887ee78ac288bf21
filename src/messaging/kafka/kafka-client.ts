import kafkajs, {
  CompressionTypes,
  Kafka,
  type KafkaConfig,
  logLevel,
  type Producer,
  type SASLOptions,
} from 'kafkajs';
import type { Config, OutputCompression } from '../../config/config.ts';
import type { Logger } from '../../observability/logger.ts';
import { installRecordBatchGuard } from '../consumer/unreadable-record-batches.ts';
import { CODEC_IDS, type CodecName, KAFKA_CODECS, unknownCodec } from './kafka-codecs.ts';
import { checkKafkaTls } from './kafka-tls-check.ts';
import { Murmur2Partitioner } from './murmur2-partitioner.ts';
import { noDelaySocketFactory } from './no-delay-socket-factory.ts';

export const COMPRESSION_TYPE_OF: Record<OutputCompression, CompressionTypes> = {
  none: CompressionTypes.None,
  gzip: CompressionTypes.GZIP,
  snappy: CompressionTypes.Snappy,
  lz4: CompressionTypes.LZ4,
  zstd: CompressionTypes.ZSTD,
};

/**
 * Every Kafka client of this process reads and writes all of Kafka's codecs, and a record
 * batch it still cannot read stops only its partition (SPEC §4.4). kafkajs keeps both in
 * module state, so this runs once, when this module loads, before any client exists; test and
 * bench clients made with `new Kafka` call it too.
 */
export function registerKafkaCodecs(): void {
  // not a named export of kafkajs' CommonJS module for Node's ES module loader
  const codecs = kafkajs.CompressionCodecs as unknown as Record<number, () => unknown>;
  for (const [name, id] of Object.entries(CODEC_IDS))
    codecs[id] = () => KAFKA_CODECS[name as CodecName];
  // ids 5–7 are unassigned: kafkajs would read such a batch as uncompressed records
  for (const id of [5, 6, 7]) codecs[id] = () => unknownCodec(id);
  installRecordBatchGuard();
}

registerKafkaCodecs();

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
    socketFactory: noDelaySocketFactory,
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

/**
 * The producer the service and its commands send with: idempotent with one request in flight,
 * so kafkajs' own retries neither duplicate nor reorder a partition's records (each keyed
 * customer's order, SPEC §2, §4.6); keyed records on the partition the Java client picks,
 * without kafkajs' allocation per record (murmur2-partitioner.ts). Sending to a missing topic
 * fails rather than creating it, unless `allowAutoTopicCreation` says otherwise.
 */
export function createProducer(
  kafka: Kafka,
  { allowAutoTopicCreation = false }: { allowAutoTopicCreation?: boolean } = {},
): Producer {
  return kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation,
    createPartitioner: Murmur2Partitioner,
  });
}
