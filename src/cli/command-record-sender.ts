import type { Kafka } from 'kafkajs';
import type { Config } from '../config/config.ts';
import { COMPRESSION_TYPE_OF, createProducer } from '../messaging/kafka/kafka-client.ts';
import { createRecordSender, type RecordSender } from '../messaging/kafka/record-sender.ts';
import type { Logger } from '../observability/logger.ts';

/**
 * The sender a command publishes through (dead letters of `replay`, `parked retry`): split to
 * fit KAFKA_MAX_REQUEST_BYTES, compressed with KAFKA_COMPRESSION, refusals isolated. Not
 * connected yet.
 */
export function createCommandRecordSender(
  kafka: Kafka,
  config: Config,
  logger: Logger,
): RecordSender {
  return createRecordSender({
    createProducer: () => createProducer(kafka),
    compression: COMPRESSION_TYPE_OF[config.kafka.compression],
    maxRequestBytes: config.kafka.maxRequestBytes,
    logger,
  });
}
