import type { Config } from '../../config/config.ts';
import type { Logger } from '../../observability/logger.ts';
import type { Metrics } from '../../observability/metrics.ts';
import { type CustomerUpdatedEncoder, jsonEncoder } from '../outbox/outbox-relay.ts';
import {
  createJsonUpdateRequestDecoder,
  type UpdateRequestDecoder,
} from './decode-update-request.ts';

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
  if (config.schemaRegistry.url === undefined) {
    return {
      decoder: createJsonUpdateRequestDecoder({ maxMessageBytes: config.maxMessageBytes }),
      encoder: jsonEncoder,
    };
  }
  // Loaded only when a registry is configured: the registry client, Avro, ajv and protobufjs
  // are ~10 MiB of resident memory a plain-JSON deployment has no use for (SPEC §9).
  const [
    { createRegistryCustomerUpdatedEncoder },
    { createSchemaRegistryClient },
    { createSchemaRegistryDecoder },
    { customerUpdatedSubjectSchema },
  ] = await Promise.all([
    import('../schema-registry/registry-customer-updated-encoder.ts'),
    import('../schema-registry/schema-registry-client.ts'),
    import('../schema-registry/schema-registry-decoder.ts'),
    import('../schema-registry/schema-subjects.ts'),
  ]);
  const registry = createSchemaRegistryClient({
    url: config.schemaRegistry.url,
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
