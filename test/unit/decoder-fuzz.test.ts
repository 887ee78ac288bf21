/**
 * SPEC §4.4 for whatever a producer can send: every decoder (plain JSON, Avro wire format, JSON
 * Schema wire format) answers arbitrary and adversarial bytes with a request or a dead-letter
 * code, never a throw, with bounded work: the pattern work of a message stays within its
 * budget, and the heap does not grow with what values declare. The schemas are the shipped
 * ones and hostile ones a producer could register (backtracking patterns, uniqueItems over
 * objects, recursion, maps and arrays of nulls).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { SchemaType } from '@kafkajs/confluent-schema-registry';
import JsonSchemaModule from '@kafkajs/confluent-schema-registry/dist/JsonSchema.js';
import avsc from 'avsc';
import fc from 'fast-check';
import { toAvroUpdateRequest } from '../../src/contracts/customer-update-requested-avro.ts';
import { isErrorCode } from '../../src/contracts/error-codes.ts';
import {
  createJsonUpdateRequestDecoder,
  type DecodedMessage,
  type UpdateRequestDecoder,
} from '../../src/messaging/consumer/decode-update-request.ts';
import {
  boundedJsonSchema,
  createJsonSchemaCompiler,
  type LibraryJsonSchema,
} from '../../src/messaging/schema-registry/json-schema-compiler.ts';
import { PatternWorkMeter } from '../../src/messaging/schema-registry/linear-time-regexp.ts';
import type {
  SchemaRegistryClient,
  WriterSchema,
} from '../../src/messaging/schema-registry/schema-registry-client.ts';
import { createSchemaRegistryDecoder } from '../../src/messaging/schema-registry/schema-registry-decoder.ts';
import { createMetrics } from '../../src/observability/metrics.ts';
import { adversarialAvro } from '../support/adversarial-bytes.ts';
import { anUpdateRequest } from '../support/update-request-builder.ts';
import { aKafkaMessage, wireFormat } from '../support/wire-format.ts';

const SCHEMAS = new URL('../../schemas/', import.meta.url);
/** The library's JsonSchema class, as the registry client builds it (CommonJS default export). */
const JsonSchema = (
  JsonSchemaModule as unknown as {
    default: new (
      schema: { type: SchemaType; schema: string },
      options: { ajvInstance: unknown },
    ) => unknown;
  }
).default;

/** A value no dead-letter message may quote (SPEC §4.4: PII-free). */
const PII = 'Zoë Secret-Name';

const avroRequest = avsc.Type.forSchema(
  JSON.parse(readFileSync(new URL('customer.update.requested.avsc', SCHEMAS), 'utf8')),
);
const meter = new PatternWorkMeter();
const compiler = createJsonSchemaCompiler(meter);

function jsonWriter(schema: unknown): WriterSchema {
  const compiled = new JsonSchema(
    { type: SchemaType.JSON, schema: JSON.stringify(schema) },
    { ajvInstance: compiler },
  ) as unknown as LibraryJsonSchema;
  return { kind: 'json', schema: boundedJsonSchema(compiled, meter) };
}

const hostileJsonSchema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $defs: {
    node: { anyOf: [{ type: 'string' }, { type: 'array', items: { $ref: '#/$defs/node' } }] },
  },
  type: 'object',
  properties: {
    data: {
      type: 'object',
      properties: {
        firstName: { type: 'string', pattern: '^(a|a)*$' },
        loanIds: { type: 'array', uniqueItems: true },
        metadata: { $ref: '#/$defs/node' },
      },
      patternProperties: {
        '^(x+x+)+y$': { type: 'string' },
        '^[a-z]{0,1000}$': { type: 'string' },
      },
    },
  },
};

/** Schema ids, as a registry would answer them. */
const WRITERS: Record<number, WriterSchema> = {
  1: { kind: 'avro', schema: avroRequest },
  2: {
    kind: 'avro',
    schema: avsc.Type.forSchema({ type: 'map', values: { type: 'array', items: 'null' } }),
  },
  3: {
    kind: 'avro',
    schema: avsc.Type.forSchema({
      type: 'record',
      name: 'Tree',
      fields: [{ name: 'children', type: { type: 'array', items: 'Tree' } }],
    }),
  },
  4: jsonWriter(
    JSON.parse(readFileSync(new URL('customer.update.requested.schema.json', SCHEMAS), 'utf8')),
  ),
  5: jsonWriter(hostileJsonSchema),
  6: { kind: 'unusable', reason: 'a pattern the linear-time engine cannot run' },
};

const registry: SchemaRegistryClient = {
  library: {} as SchemaRegistryClient['library'],
  isCached: (id) => id in WRITERS,
  writerSchema: async (id) => WRITERS[id] ?? { kind: 'unknown-id' },
  request: async () => ({ status: 500, body: undefined }),
};

const decoders: Record<string, UpdateRequestDecoder> = {
  'plain JSON': createJsonUpdateRequestDecoder({ maxMessageBytes: 65_536 }),
  'Schema Registry wire format': createSchemaRegistryDecoder({
    registry,
    maxMessageBytes: 65_536,
    requireRegistryEncoding: false,
    metrics: createMetrics(),
  }),
};

const wire = wireFormat;
const message = (value: Buffer) => aKafkaMessage(value);

const validRequest = anUpdateRequest()
  .withData({ firstName: PII, loanIds: [1, 2], metadata: { note: PII } })
  .build();
const validJson = Buffer.from(JSON.stringify(validRequest));
const validAvro = avroRequest.toBuffer(toAvroUpdateRequest(validRequest));

/** JSON a hostile producer could write: deep, wide, long, not UTF-8, or mutated. */
const adversarialJson: fc.Arbitrary<Buffer> = fc.oneof(
  fc.uint8Array({ maxLength: 300 }).map((bytes) => Buffer.from(bytes)),
  fc.jsonValue().map((value) => Buffer.from(JSON.stringify(value))),
  fc
    .integer({ min: 1, max: 30_000 })
    .map((depth) => Buffer.from(`${'['.repeat(depth)}${']'.repeat(depth)}`)),
  fc
    .integer({ min: 1, max: 20_000 })
    .map((keys) =>
      Buffer.from(`{${Array.from({ length: keys }, (_, index) => `"k${index}":0`).join(',')}}`),
    ),
  fc
    .integer({ min: 1, max: 60_000 })
    .map((length) => Buffer.from(JSON.stringify({ data: { firstName: 'a'.repeat(length) } }))),
  fc
    .tuple(
      fc.nat({ max: validJson.length - 1 }),
      fc.constantFrom(0xff, 0xc0, 0xed, 0x80, 0x00, 0x22, 0x5c),
    )
    .map(([at, byte]) => {
      const changed = Buffer.from(validJson);
      changed[at] = byte;
      return changed;
    }),
  fc.nat({ max: validJson.length }).map((end) => validJson.subarray(0, end)),
);

const anyValue: fc.Arbitrary<Buffer> = fc.oneof(
  adversarialJson,
  fc
    .tuple(fc.integer({ min: 0, max: 8 }), adversarialJson)
    .map(([id, payload]) => wire(id, payload)),
  fc
    .tuple(fc.constantFrom(1, 2, 3), adversarialAvro(validAvro))
    .map(([id, payload]) => wire(id, payload)),
  fc.uint8Array({ maxLength: 8 }).map((bytes) => Buffer.from([0, ...bytes])),
);

function assertAnswered(result: DecodedMessage): void {
  if (result.ok) return;
  assert.ok(isErrorCode(result.failure.code), result.failure.code);
  assert.ok(!result.failure.message.includes(PII), result.failure.message);
  assert.ok(!result.failure.message.includes('Secret'), result.failure.message);
}

describe('every decoder, fed arbitrary and adversarial bytes', () => {
  for (const [name, decoder] of Object.entries(decoders)) {
    it(`${name}: answers with a request or a dead-letter code, never a throw, in bounded work`, async () => {
      const heapBefore = process.memoryUsage().heapUsed;
      await fc.assert(
        fc.asyncProperty(anyValue, async (value) => {
          const result = await decoder.decode(message(value));
          assertAnswered(result);
          assert.ok(meter.spent <= meter.budget);
        }),
        { numRuns: 1_500 },
      );
      // Generous: garbage of 1,500 decodes of at most 64 KiB, never what a value declares.
      assert.ok(process.memoryUsage().heapUsed - heapBefore < 256 * 1024 * 1024);
    });
  }

  const registryDecoder = decoders['Schema Registry wire format'] as UpdateRequestDecoder;

  it('decodes the valid request alike in all three formats', async () => {
    const fromJson = await registryDecoder.decode(message(validJson));
    const fromAvro = await registryDecoder.decode(message(wire(1, validAvro)));
    const fromJsonSchema = await registryDecoder.decode(message(wire(4, validJson)));
    assert.ok(fromJson.ok);
    assert.deepEqual(fromAvro, fromJson);
    assert.deepEqual(fromJsonSchema, fromJson);
  });

  it('answers a backtracking pattern in a registry JSON Schema as a mismatch, not a frozen loop', async () => {
    const value = Buffer.from(
      JSON.stringify({
        ...validRequest,
        data: { taskType: 'collections', firstName: `${'a'.repeat(30_000)}b` },
      }),
    );
    const result = await registryDecoder.decode(message(wire(5, value)));
    assert.deepEqual(result, {
      ok: false,
      failure: {
        code: 'schema.mismatch',
        message: 'the value does not match its JSON Schema (id 5) at /data/firstName',
      },
    });
  });

  it('answers a schema whose patterns would cost too much on this value with its own code', async () => {
    const keys = Object.fromEntries(
      Array.from({ length: 250 }, (_, index) => [`${'x'.repeat(200)}${index}`, 'v']),
    );
    const value = Buffer.from(
      JSON.stringify({ ...validRequest, data: { taskType: 'collections', ...keys } }),
    );
    const result = await registryDecoder.decode(message(wire(5, value)));
    assert.equal(!result.ok && result.failure.code, 'schema.validation_too_costly');
  });

  it('refuses invalid UTF-8 in JSON Schema wire format as plain JSON does', async () => {
    const invalid = Buffer.from(validJson);
    invalid[invalid.indexOf(Buffer.from('ë'))] = 0xff;
    for (const value of [invalid, wire(4, invalid)]) {
      const result = await registryDecoder.decode(message(value));
      assert.deepEqual(result, {
        ok: false,
        failure: { code: 'decode.malformed', message: 'the message value is not valid UTF-8' },
      });
    }
  });

  it('names why a schema cannot be used', async () => {
    const result = await registryDecoder.decode(message(wire(6, validJson)));
    assert.equal(!result.ok && result.failure.code, 'schema.mismatch');
    assert.match(
      !result.ok ? result.failure.message : '',
      /schema 6 .*cannot be parsed or compiled here: a pattern/,
    );
  });
});
