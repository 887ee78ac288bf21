import type { Config } from '../../config/config.ts';
import {
  type CustomerUpdated,
  type CustomerUpdatedAvroRecord,
  fromAvroRecord,
  parseCustomerUpdated,
} from '../../contracts/customer-updated.ts';
import type { SchemaRegistryClient } from '../schema-registry/schema-registry-client.ts';

/** Confluent wire format: magic byte 0 and a 4-byte schema id before the Avro payload. */
const HEADER_BYTES = 5;

/** Reads customer.updated values back, as the relay wrote them (outbox-relay.ts). */
export interface CustomerUpdatedDecoder {
  /**
   * The event, or undefined when the value is not one we can read here (not the contract, or
   * Avro without SCHEMA_REGISTRY_URL). Throws only when the registry cannot be reached: then no
   * value in Avro can be read, which the caller reports once instead of for every message.
   */
  decode(value: Buffer | null): Promise<CustomerUpdated | undefined>;
}

/**
 * SPEC §5: customer.updated is plain JSON, or, with a Schema Registry, Avro in Confluent wire
 * format. The registry client is loaded only when a value in wire format turns up.
 */
export function createCustomerUpdatedDecoder(
  config: Pick<Config, 'schemaRegistry'>,
): CustomerUpdatedDecoder {
  let registry: Promise<SchemaRegistryClient> | undefined;
  const registryClient = (url: string) => {
    registry ??= import('../schema-registry/schema-registry-client.ts').then(
      ({ createSchemaRegistryClient }) =>
        createSchemaRegistryClient({
          url,
          auth: config.schemaRegistry.auth,
          timeoutMs: config.schemaRegistry.timeoutMs,
        }),
    );
    return registry;
  };

  async function decodeAvro(value: Buffer): Promise<unknown> {
    if (config.schemaRegistry.url === undefined || value.length < HEADER_BYTES) return undefined;
    const writer = await (await registryClient(config.schemaRegistry.url)).writerSchema(
      value.readInt32BE(1),
    );
    if (writer.kind !== 'avro') return undefined;
    try {
      return fromAvroRecord(
        writer.schema.fromBuffer(value.subarray(HEADER_BYTES)) as CustomerUpdatedAvroRecord,
      );
    } catch {
      return undefined;
    }
  }

  return {
    async decode(value) {
      if (value === null || value.length === 0) return undefined;
      let decoded: unknown;
      if (value[0] === 0) decoded = await decodeAvro(value);
      else {
        try {
          decoded = JSON.parse(value.toString('utf8'));
        } catch {
          return undefined;
        }
      }
      if (decoded === undefined) return undefined;
      const parsed = parseCustomerUpdated(decoded);
      return parsed.ok ? parsed.event : undefined;
    },
  };
}
