/**
 * The Schema Registry decoder's decisions, against a stand-in for our registry adapter (the
 * real registry is exercised in test/integration/schema-registry.test.ts): which bytes count
 * as wire format, SCHEMA_REGISTRY_REQUIRED, size limits, one lookup per schema id, and
 * outages surfacing as retryable errors rather than dead letters.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import avsc from 'avsc';
import { toAvroUpdateRequest } from '../../src/contracts/customer-update-requested-avro.ts';
import { CustomerSyncError, canRetry } from '../../src/errors.ts';
import type {
  SchemaRegistryClient,
  WriterSchema,
} from '../../src/messaging/schema-registry/schema-registry-client.ts';
import { createSchemaRegistryDecoder } from '../../src/messaging/schema-registry/schema-registry-decoder.ts';
import { createMetrics } from '../../src/observability/metrics.ts';
import { anUpdateRequest } from '../support/update-request-builder.ts';
import { aKafkaMessage, wireFormat } from '../support/wire-format.ts';

const avroType = avsc.Type.forSchema(
  JSON.parse(
    readFileSync(new URL('../../schemas/customer.update.requested.avsc', import.meta.url), 'utf8'),
  ) as avsc.Schema,
) as avsc.types.RecordType;

const SCHEMA_ID = 7;

/** Our registry adapter, answering from memory; `down` makes every lookup fail as in an outage. */
function registryStandIn(options: { down?: boolean } = {}) {
  const cached = new Set<number>();
  const state = { requests: 0, down: options.down ?? false };
  const client: SchemaRegistryClient = {
    library: {} as SchemaRegistryClient['library'],
    isCached: (id) => cached.has(id),
    async writerSchema(id): Promise<WriterSchema> {
      if (!cached.has(id)) {
        state.requests += 1;
        await new Promise((resolve) => setImmediate(resolve));
        if (state.down) {
          throw new CustomerSyncError('schema_registry.unavailable', 'unreachable', {
            canRetry: true,
          });
        }
        if (id !== SCHEMA_ID) return { kind: 'unknown-id' };
        cached.add(id);
      }
      return { kind: 'avro', schema: avroType };
    },
    request: async () => ({ status: 500, body: undefined }),
  };
  return { client, state };
}

function decoderWith(client: SchemaRegistryClient, requireRegistryEncoding = false) {
  const metrics = createMetrics();
  const decoder = createSchemaRegistryDecoder({
    registry: client,
    maxMessageBytes: 4_096,
    requireRegistryEncoding,
    metrics,
  });
  return { decoder, metrics };
}

const message = aKafkaMessage;

const request = anUpdateRequest().withData({ firstName: 'Ann' }).build();
const avroValue = wireFormat(SCHEMA_ID, avroType.toBuffer(toAvroUpdateRequest(request)));
const jsonValue = Buffer.from(JSON.stringify(request));

describe('the Schema Registry decoder', () => {
  it('decodes Avro wire format and plain JSON to the same request', async () => {
    const { decoder } = decoderWith(registryStandIn().client);
    const fromAvro = await decoder.decode(message(avroValue, 'tenant-a:customer-1'));
    const fromJson = await decoder.decode(message(jsonValue, 'tenant-a:customer-1'));
    assert.ok(fromAvro.ok);
    assert.deepEqual(fromAvro, fromJson);
  });

  it('dead-letters plain JSON when registry encoding is required', async () => {
    const { decoder } = decoderWith(registryStandIn().client, true);
    const result = await decoder.decode(message(jsonValue));
    assert.equal(!result.ok && result.failure.code, 'schema.wire_format_required');
    assert.ok((await decoder.decode(message(avroValue))).ok);
  });

  it('dead-letters a magic byte without a whole header as malformed', async () => {
    const { decoder } = decoderWith(registryStandIn().client);
    const result = await decoder.decode(message(Buffer.from([0, 0, 7])));
    assert.equal(!result.ok && result.failure.code, 'decode.malformed');
  });

  it('checks the size limit before asking the registry', async () => {
    const { client, state } = registryStandIn();
    const { decoder } = decoderWith(client);
    const result = await decoder.decode(message(wireFormat(SCHEMA_ID, Buffer.alloc(5_000))));
    assert.equal(!result.ok && result.failure.code, 'payload.too_large');
    assert.equal(state.requests, 0);
  });

  it('dead-letters an id the registry does not have as schema.unknown_id', async () => {
    const { decoder, metrics } = decoderWith(registryStandIn().client);
    const result = await decoder.decode(message(wireFormat(99, Buffer.from('x'))));
    assert.equal(!result.ok && result.failure.code, 'schema.unknown_id');
    const lookups = await metrics.schemaRegistryLookups.get();
    assert.deepEqual(
      lookups.values.map((value) => [value.labels.outcome, value.value]),
      [['unknown', 1]],
    );
  });

  it('looks a schema id up once for a whole batch, then decodes from the cache', async () => {
    const { client, state } = registryStandIn();
    const { decoder, metrics } = decoderWith(client);
    const results = await Promise.all(
      Array.from({ length: 50 }, () => decoder.decode(message(avroValue))),
    );
    await decoder.decode(message(avroValue));
    assert.ok(results.every((result) => result.ok));
    assert.equal(state.requests, 1);
    const lookups = await metrics.schemaRegistryLookups.get();
    assert.deepEqual(
      lookups.values.map((value) => [value.labels.outcome, value.value]),
      [['found', 1]],
    );
  });

  it('throws a retryable error while the registry is down, never a dead letter', async () => {
    const { client, state } = registryStandIn({ down: true });
    const { decoder } = decoderWith(client);
    await assert.rejects(decoder.decode(message(avroValue)), (error) => canRetry(error));
    state.down = false;
    assert.ok((await decoder.decode(message(avroValue))).ok);
  });
});
