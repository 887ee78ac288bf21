import type { Config } from '../config/config.ts';
import type { Logger } from '../observability/logger.ts';
import type { Metrics } from '../observability/metrics.ts';
import {
  createJsonUpdateRequestDecoder,
  type UpdateRequestDecoder,
} from './decode-update-request.ts';
import { type CustomerUpdatedEncoder, jsonEncoder } from './outbox-relay.ts';
import { createRegistryCustomerUpdatedEncoder } from './registry-customer-updated-encoder.ts';
import { createSchemaRegistryClient } from './schema-registry-client.ts';
import { createSchemaRegistryDecoder } from './schema-registry-decoder.ts';
import { customerUpdatedSubjectSchema } from './schema-subjects.ts';

/** How messages are read from customer.update.requested and written to customer.updated. */
export interface MessageFormats {
  decoder: UpdateRequestDecoder;
  encoder: CustomerUpdatedEncoder;
}

/**
 * SPEC §1, §8: without SCHEMA_REGISTRY_URL, plain JSON in and out. With it, requests may come in
 * Confluent wire format (Avro or JSON Schema) or, unless SCHEMA_REGISTRY_REQUIRED, plain JSON;
 * customer.updated goes out in its registered Avro schema.
 */
export async function createMessageFormats(
  config: Config,
  metrics: Metrics,
  logger: Logger,
): Promise<MessageFormats> {
  if (config.schemaRegistryUrl === undefined) {
    return {
      decoder: createJsonUpdateRequestDecoder({ maxMessageBytes: config.maxMessageBytes }),
      encoder: jsonEncoder,
    };
  }
  const registry = createSchemaRegistryClient({
    url: config.schemaRegistryUrl,
    auth: config.schemaRegistry.auth,
    timeoutMs: config.schemaRegistry.timeoutMs,
  });
  logger.info(
    { requireRegistryEncoding: config.schemaRegistry.required },
    'Schema Registry configured: reading its wire format, writing customer.updated in Avro',
  );
  return {
    decoder: createSchemaRegistryDecoder({
      registry,
      maxMessageBytes: config.maxMessageBytes,
      requireRegistryEncoding: config.schemaRegistry.required,
      metrics,
    }),
    encoder: createRegistryCustomerUpdatedEncoder({
      registry,
      subjectSchema: await customerUpdatedSubjectSchema(config.topics),
      logger,
    }),
  };
}
