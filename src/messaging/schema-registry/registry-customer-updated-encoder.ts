import { type CustomerUpdated, toAvroRecord } from '../../contracts/customer-updated.ts';
import type { Logger } from '../../observability/logger.ts';
import type { CustomerUpdatedEncoder } from '../outbox/outbox-relay.ts';
import type { SchemaRegistryClient } from './schema-registry-client.ts';
import { registerSubjectSchema, type SubjectSchema } from './schema-subjects.ts';

/** The media type of an Avro value in Confluent wire format (the `content-type` header). */
export const AVRO_CONTENT_TYPE = 'avro/binary';

/**
 * SPEC §5 with a Schema Registry: customer.updated in the Avro schema of
 * `schemas/customer.updated.avsc`, in Confluent wire format. The schema id is looked up (and
 * the schema registered, if the subject does not have it yet) once, on the first publish; a
 * failure there fails that publish, which the outbox relay retries with backoff.
 */
export function createRegistryCustomerUpdatedEncoder(options: {
  registry: SchemaRegistryClient;
  subjectSchema: SubjectSchema;
  logger: Logger;
}): CustomerUpdatedEncoder {
  let schemaId: Promise<number> | undefined;

  function resolveSchemaId(): Promise<number> {
    schemaId ??= registerSubjectSchema(options.registry, options.subjectSchema).then(
      (registered) => {
        options.logger.info(
          {
            subject: registered.subject,
            schemaId: registered.id,
            schemaVersion: registered.version,
            registeredNow: registered.created,
          },
          'customer.updated is written in its registered Avro schema',
        );
        return registered.id;
      },
      (error: unknown) => {
        schemaId = undefined;
        throw error;
      },
    );
    return schemaId;
  }

  return {
    contentType: AVRO_CONTENT_TYPE,
    async encode(payloadJson) {
      const id = await resolveSchemaId();
      return options.registry.library.encode(
        id,
        toAvroRecord(JSON.parse(payloadJson) as CustomerUpdated),
      );
    },
  };
}
