import { randomUUID } from 'node:crypto';
import type { Admin, Kafka, KafkaConfig } from 'kafkajs';
import type { Config } from '../config/config.ts';
import { createKafka } from '../messaging/kafka/kafka-client.ts';
import type { Logger } from '../observability/logger.ts';
import { createCommandLogger } from './command-logger.ts';

/** The Kafka side of a one-off command: its logger, and a client named after it. */
export interface CommandKafka {
  logger: Logger;
  kafka: Kafka;
  /**
   * A consumer group of this run's own, `<KAFKA_GROUP_ID>.<purpose>.<uuid>`: a command never
   * joins the service's group, so the service's committed offsets never move.
   */
  runGroupId(purpose: string): string;
}

/** Built the same way for every command (`dlq`, `replay`, `explain`, `produce`). */
export function commandKafka(
  config: Pick<Config, 'kafka' | 'logLevel'>,
  command: string,
  retry?: KafkaConfig['retry'],
): CommandKafka {
  const logger = createCommandLogger(config, command);
  return {
    logger,
    kafka: createKafka(config, logger, `-${command}`, retry),
    runGroupId: (purpose) => `${config.kafka.groupId}.${purpose}.${randomUUID()}`,
  };
}

/** Runs `work` with a connected admin client, and disconnects it however `work` ends. */
export async function withAdmin<T>(kafka: Kafka, work: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return await work(admin);
  } finally {
    await admin.disconnect().catch(() => {});
  }
}
