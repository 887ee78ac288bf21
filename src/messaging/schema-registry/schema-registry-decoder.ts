import { checkPayloadSize, decodeJsonMessage } from '../../contracts/customer-update-requested.ts';
import {
  type AvroRecordSchema,
  fromAvroUpdateRequest,
} from '../../contracts/customer-update-requested-avro.ts';
import { ERROR_CODES, type ErrorCode } from '../../contracts/error-codes.ts';
import type { Metrics } from '../../observability/metrics.ts';
import {
  type DecodedMessage,
  type UpdateRequestDecoder,
  validateDecodedValue,
} from '../consumer/decode-update-request.ts';
import { decodeAvroBounded } from './avro-bounded-decoding.ts';
import type { SchemaRegistryClient, WriterSchema } from './schema-registry-client.ts';

/** Confluent wire format: magic byte 0, then the schema id as a 4-byte big-endian integer. */
const MAGIC_BYTE = 0;
const HEADER_BYTES = 5;

export interface SchemaRegistryDecoderOptions {
  registry: SchemaRegistryClient;
  maxMessageBytes: number;
  /** SCHEMA_REGISTRY_REQUIRED: a plain JSON value is dead-lettered instead of accepted. */
  requireRegistryEncoding: boolean;
  metrics: Pick<Metrics, 'schemaRegistryLookups'>;
}

/**
 * SPEC §1: values in Confluent Schema Registry wire format, Avro or JSON Schema, decoded with
 * the writer's schema from the registry (fetched once per schema id, then cached), then held to
 * the same zod contract as plain JSON. Plain JSON (a first byte other than 0; JSON text never
 * starts with a NUL) is still accepted unless the configuration requires registry encoding.
 *
 * Failures: an unknown schema id -> `schema.unknown_id`; a value its schema cannot read ->
 * `schema.mismatch`; the registry unreachable -> a retryable error, so the consumer pauses the
 * partition and retries, never skips (SPEC §4.5). Decoding is bounded whatever the bytes and
 * the schema (SPEC §4.4): Avro through decodeAvroBounded, JSON through the plain-JSON decoder
 * and a JSON Schema compiled for bounded time (json-schema-compiler.ts).
 */
export function createSchemaRegistryDecoder(
  options: SchemaRegistryDecoderOptions,
): UpdateRequestDecoder {
  const { registry, metrics } = options;

  /** Lookups in flight: a batch of messages naming one new id makes one request, not many. */
  const lookups = new Map<number, Promise<WriterSchema>>();

  function writerSchemaOf(id: number): Promise<WriterSchema> {
    if (registry.isCached(id)) return registry.writerSchema(id);
    let lookup = lookups.get(id);
    if (lookup === undefined) {
      lookup = registry
        .writerSchema(id)
        .then(
          (schema) => {
            const outcome = schema.kind === 'unknown-id' ? 'unknown' : 'found';
            metrics.schemaRegistryLookups.inc({ outcome });
            return schema;
          },
          (error: unknown) => {
            metrics.schemaRegistryLookups.inc({ outcome: 'failed' });
            throw error;
          },
        )
        .finally(() => lookups.delete(id));
      lookups.set(id, lookup);
    }
    return lookup;
  }

  async function decodeRegistryEncoded(value: Buffer, key: Buffer | null): Promise<DecodedMessage> {
    if (value.length < HEADER_BYTES) {
      return rejected(
        ERROR_CODES.decodeMalformed,
        'the value starts with the Schema Registry magic byte but is shorter than its 5-byte header',
      );
    }
    const id = value.readInt32BE(1);
    const writer = await writerSchemaOf(id);
    switch (writer.kind) {
      case 'unknown-id':
        return rejected(
          ERROR_CODES.schemaUnknownId,
          `the Schema Registry has no schema with id ${id}`,
        );
      case 'unusable':
        return rejected(
          ERROR_CODES.schemaMismatch,
          `schema ${id} from the Schema Registry cannot be parsed or compiled here${writer.reason ? `: ${writer.reason}` : ''}`,
        );
      case 'unsupported':
        return rejected(
          ERROR_CODES.schemaMismatch,
          `schema ${id} is ${writer.schemaType}; only Avro and JSON Schema are accepted`,
        );
      case 'avro': {
        const decoded = decodeAvroBounded(writer.schema, value.subarray(HEADER_BYTES), id);
        if (!decoded.ok) return decoded;
        const converted = fromAvroUpdateRequest(
          decoded.value,
          writer.schema as unknown as AvroRecordSchema,
        );
        return converted.ok ? validateDecodedValue(converted.value, key) : converted;
      }
      case 'json': {
        // The same decoding as plain JSON (strict UTF-8, DECODING_LIMITS), then the schema.
        const decoded = decodeJsonMessage(value.subarray(HEADER_BYTES), options.maxMessageBytes);
        if (!decoded.ok) return decoded;
        const verdict = writer.schema.validate(decoded.value);
        if (!verdict.ok && 'tooCostly' in verdict) {
          return rejected(
            ERROR_CODES.schemaValidationTooCostly,
            `checking the value against the patterns of its JSON Schema (id ${id}) would cost more than one message is allowed`,
          );
        }
        if (!verdict.ok) {
          const where = verdict.paths.length > 0 ? ` at ${firstPath(verdict.paths)}` : '';
          return rejected(
            ERROR_CODES.schemaMismatch,
            `the value does not match its JSON Schema (id ${id})${where}`,
          );
        }
        return validateDecodedValue(decoded.value, key);
      }
    }
  }

  return {
    async decode(message) {
      const value = message.value;
      if (value !== null && value.length > 0 && value[0] === MAGIC_BYTE) {
        const tooLarge = checkPayloadSize(value, options.maxMessageBytes);
        if (tooLarge) return { ok: false, failure: tooLarge };
        return decodeRegistryEncoded(value, message.key);
      }
      if (options.requireRegistryEncoding) {
        return rejected(
          ERROR_CODES.schemaWireFormatRequired,
          'the value is not in Schema Registry wire format (magic byte 0 and a schema id), which SCHEMA_REGISTRY_REQUIRED demands',
        );
      }
      const decoded = decodeJsonMessage(value, options.maxMessageBytes);
      if (!decoded.ok) return decoded;
      return validateDecodedValue(decoded.value, message.key);
    },
  };
}

function rejected(code: ErrorCode, message: string): DecodedMessage {
  return { ok: false, failure: { code, message } };
}

/** Ajv reports JSON Pointers of the instance (`/data/phone`): field names, never values. */
function firstPath(paths: readonly string[]): string {
  const pointer = paths[0] ?? '';
  return pointer === '' ? 'the top level' : pointer.slice(0, 100);
}
