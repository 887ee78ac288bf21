import type { Kafka } from 'kafkajs';
import {
  type ConnectFailure,
  classifySocketFailure,
  type Dependency,
} from '../../application/wait-for-dependency.ts';
import type { Config } from '../../config/config.ts';
import { CustomerSyncError } from '../../errors.ts';
import type { Logger } from '../../observability/logger.ts';
import { createKafka } from './kafka-client.ts';

/** Where Kafka is, for log lines and errors: the bootstrap list as configured (no credentials). */
export function kafkaDependency(config: Pick<Config, 'kafka'>): Dependency {
  return { name: 'Kafka', address: config.kafka.brokers.join(','), variable: 'KAFKA_BROKERS' };
}

const SASL_FIX = 'check KAFKA_SASL_MECHANISM, KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD';
/** Broker answers that say who we are is not allowed: waiting does not change that. */
const REFUSED_TYPES = new Set([
  'SASL_AUTHENTICATION_FAILED',
  'UNSUPPORTED_SASL_MECHANISM',
  'ILLEGAL_SASL_STATE',
  'CLUSTER_AUTHORIZATION_FAILED',
  'TOPIC_AUTHORIZATION_FAILED',
  'GROUP_AUTHORIZATION_FAILED',
  'TRANSACTIONAL_ID_AUTHORIZATION_FAILED',
]);

/**
 * Reads a kafkajs failure as start-up sees it. kafkajs wraps the failure of its last retry
 * (`KafkaJSNumberOfRetriesExceeded`), so the chain of causes is followed to the socket's code.
 */
export function classifyKafkaFailure(error: unknown): ConnectFailure | undefined {
  let sawKafkaError = false;
  for (let current: unknown = error, depth = 0; current && depth < 5; depth += 1) {
    const { name, code, type, retriable } = current as {
      name?: unknown;
      code?: unknown;
      type?: unknown;
      retriable?: unknown;
    };
    // kafka-tls-check.ts: a broker certificate we do not trust, or one that refuses ours; its
    // message names what to fix.
    if (current instanceof CustomerSyncError && current.code === 'kafka.tls_refused')
      return { kind: 'misconfigured', reason: current.message, variable: 'KAFKA_SSL_CA', fix: '' };
    if (name === 'KafkaJSSASLAuthenticationError')
      return {
        kind: 'misconfigured',
        // kafkajs' words name the mechanism, never the password.
        reason: `the broker refused the credentials (${firstLine(current)})`,
        variable: 'KAFKA_SASL_USERNAME',
        fix: SASL_FIX,
      };
    if (typeof type === 'string' && REFUSED_TYPES.has(type))
      return {
        kind: 'misconfigured',
        reason: `the broker refused us (${type})`,
        variable: 'KAFKA_SASL_USERNAME',
        fix: SASL_FIX,
      };
    if (typeof code === 'string') {
      const socket = classifySocketFailure(code, 'KAFKA_SSL');
      if (socket !== undefined) return socket;
    }
    if (typeof name === 'string' && name.startsWith('KafkaJS')) {
      sawKafkaError = true;
      if (
        name === 'KafkaJSConnectionError' ||
        name === 'KafkaJSConnectionClosedError' ||
        name === 'KafkaJSRequestTimeoutError' ||
        name === 'KafkaJSBrokerNotFound' ||
        name === 'KafkaJSNoBrokerAvailableError' ||
        name === 'KafkaJSGroupCoordinatorNotFound' ||
        name === 'KafkaJSLockTimeout'
      ) {
        const message = (current as Error).message;
        return { kind: 'unreachable', reason: message.replace(/^Connection error: /, '') };
      }
      if (retriable === true && name === 'KafkaJSProtocolError')
        return { kind: 'unreachable', reason: `the broker is not ready (${String(type)})` };
    }
    current =
      (current as { cause?: unknown; originalError?: unknown }).cause ??
      (current as { originalError?: unknown }).originalError;
  }
  return sawKafkaError ? { kind: 'unreachable', reason: describeKafkaError(error) } : undefined;
}

function firstLine(error: unknown): string {
  return String((error as { message?: unknown }).message ?? '').split('\n')[0] ?? '';
}

function describeKafkaError(error: unknown): string {
  const { name, message } = error as { name?: unknown; message?: unknown };
  return `${String(name)}: ${String(message)}`;
}

/**
 * One attempt to reach Kafka: connects an admin client to a bootstrap broker (TLS and SASL
 * included). `kafka` must be made without kafkajs' own retries (`createProbeKafka`), which would
 * spend ~40 s before the first word: the wait loop retries, and says so.
 */
export async function probeKafka(kafka: Kafka): Promise<void> {
  const admin = kafka.admin();
  try {
    await admin.connect();
  } finally {
    await admin.disconnect().catch(() => {});
  }
}

/** A client for `probeKafka`: the service's TLS and SASL settings, no retries, no log lines. */
export function createProbeKafka(config: Pick<Config, 'kafka'>, logger: Logger): Kafka {
  return createKafka(config, logger.child({}, { level: 'silent' }), '-start-up', { retries: 0 });
}
