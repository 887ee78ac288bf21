/**
 * The Avro form of customer.update.requested (schemas/customer.update.requested.avsc): the
 * conversion to the JSON shape the zod contract takes must keep SPEC §3's partial-update
 * semantics (absent = unchanged, null = clear), and read producers on older and newer
 * compatible versions of the schema. Pure: avsc encodes and decodes in memory.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import avsc from 'avsc';
import { parseCustomerUpdateRequested } from '../../src/contracts/customer-update-requested.ts';
import {
  CLEARABLE_FIELDS,
  fromAvroUpdateRequest,
  toAvroUpdateRequest,
} from '../../src/contracts/customer-update-requested-avro.ts';
import { CUSTOMER_FIELDS } from '../../src/domain/customer-fields.ts';
import { anUpdateRequest } from '../support/update-request-builder.ts';

const SCHEMAS = new URL('../../schemas/', import.meta.url);
type RawSchema = { fields: Array<{ name: string; type: unknown; default?: unknown }> };
const rawSchema = JSON.parse(
  readFileSync(new URL('customer.update.requested.avsc', SCHEMAS), 'utf8'),
) as RawSchema & { fields: Array<{ name: string; type: RawSchema }> };
const shipped = avsc.Type.forSchema(rawSchema as avsc.Schema) as avsc.types.RecordType;

/** What the service does with an Avro value: decode with the writer's schema, convert, validate. */
function readAvro(bytes: Buffer, writer: avsc.types.RecordType) {
  const converted = fromAvroUpdateRequest(writer.fromBuffer(bytes), writer);
  return converted.ok ? parseCustomerUpdateRequested(converted.value) : converted;
}

function viaAvro(request: Record<string, unknown>, writer = shipped) {
  return readAvro(writer.toBuffer(toAvroUpdateRequest(request)), writer);
}

/** A variant of the shipped schema with `data` fields removed or added. */
function dataVariant(change: {
  remove?: string[];
  add?: Array<{ name: string; type: unknown; default?: unknown }>;
}) {
  const variant = structuredClone(rawSchema);
  const data = variant.fields.find((field) => field.name === 'data')?.type as RawSchema;
  data.fields = data.fields.filter((field) => !change.remove?.includes(field.name));
  data.fields.push(...(change.add ?? []));
  return avsc.Type.forSchema(variant as avsc.Schema) as avsc.types.RecordType;
}

function examples(folder: string) {
  const dir = new URL(`examples/${folder}/`, SCHEMAS);
  return readdirSync(dir)
    .filter((file) => file.endsWith('.json'))
    .map((file) => ({
      file,
      value: JSON.parse(readFileSync(new URL(file, dir), 'utf8')) as Record<string, unknown>,
    }));
}

describe('customer.update.requested in Avro', () => {
  for (const { file, value } of examples('valid')) {
    it(`reads ${file} exactly as its JSON form`, () => {
      assert.deepEqual(viaAvro(value), parseCustomerUpdateRequested(value));
    });
  }

  it('leaves a field unchanged when it is null, and clears it when fieldsToClear names it', () => {
    const request = anUpdateRequest()
      .withData({ firstName: 'Ann', email: null, metadata: null })
      .build();
    const avro = toAvroUpdateRequest(request) as { data: Record<string, unknown> };
    assert.equal(avro.data.lastName, null);
    assert.deepEqual(avro.data.fieldsToClear, ['email', 'metadata']);

    const result = viaAvro(request);
    assert.ok(result.ok);
    assert.deepEqual(result.request.patch, {
      taskType: 'collections',
      firstName: 'Ann',
      email: null,
    });
    assert.equal(result.request.metadataPatch, null);
    assert.equal('lastName' in result.request.patch, false);
  });

  it('carries metadata as the JSON text of a merge patch', () => {
    const result = viaAvro(
      anUpdateRequest()
        .withData({ metadata: { a: 1, b: null } })
        .build(),
    );
    assert.ok(result.ok);
    assert.deepEqual(result.request.metadataPatch, { a: 1, b: null });
  });

  it('can clear every customer field but taskType, and metadata', () => {
    assert.deepEqual(CLEARABLE_FIELDS, [
      ...CUSTOMER_FIELDS.filter((field) => field !== 'taskType'),
      'metadata',
    ]);
  });

  it('dead-letters a field that is both set and named in fieldsToClear', () => {
    const record = toAvroUpdateRequest(anUpdateRequest().withData({ phone: '4155550132' }).build());
    (record.data as { fieldsToClear: string[] }).fieldsToClear = ['phone'];
    const result = readAvro(shipped.toBuffer(record), shipped);
    assert.deepEqual(result, {
      ok: false,
      failure: {
        code: 'data.invalid_field',
        message: 'data.phone is both set and named in fieldsToClear',
        path: 'data.phone',
      },
    });
  });

  it('dead-letters fieldsToClear naming a field that cannot be cleared', () => {
    for (const name of ['taskType', 'frstName']) {
      const record = toAvroUpdateRequest(anUpdateRequest().build());
      (record.data as { fieldsToClear: string[] }).fieldsToClear = [name];
      const result = readAvro(shipped.toBuffer(record), shipped);
      assert.equal(result.ok, false);
      assert.equal(!result.ok && result.failure.code, 'data.unknown_field');
      assert.equal(!result.ok && result.failure.path, 'data.fieldsToClear');
    }
  });

  it('dead-letters metadata text that is not a JSON object, without echoing it', () => {
    for (const text of ['{"a":', '[1]', 'null', '"secret"']) {
      const record = toAvroUpdateRequest(anUpdateRequest().build());
      (record.data as { metadata: string }).metadata = text;
      const result = readAvro(shipped.toBuffer(record), shipped);
      assert.equal(!result.ok && result.failure.code, 'data.invalid_field');
      assert.equal(!result.ok && result.failure.path, 'data.metadata');
      assert.ok(!result.ok && !result.failure.message.includes('secret'));
    }
  });

  it('still applies the zod contract: an invalid phone fails as it would in JSON', () => {
    const request = anUpdateRequest().withData({ phone: '12' }).build();
    const result = viaAvro(request);
    assert.equal(result.ok, false);
    assert.deepEqual(result, parseCustomerUpdateRequested(request));
  });

  it('reads a producer on an older version that lacks fields added since', () => {
    const older = dataVariant({ remove: ['loanReferenceId', 'loanIds', 'fieldsToClear'] });
    const request = anUpdateRequest().withData({ lastName: 'Lee', enrich: true }).build();
    const record = toAvroUpdateRequest(request);
    const result = readAvro(older.toBuffer(record), older);
    assert.ok(result.ok);
    assert.deepEqual(result, parseCustomerUpdateRequested(request));
  });

  it('reads a producer on a newer version whose added field is left at its default', () => {
    const newer = dataVariant({
      add: [{ name: 'preferredLanguage', type: ['null', 'string'], default: null }],
    });
    const request = anUpdateRequest().withData({ city: 'Austin' }).build();
    const record = { ...toAvroUpdateRequest(request) };
    const result = readAvro(newer.toBuffer(record), newer);
    assert.deepEqual(result, parseCustomerUpdateRequested(request));
  });

  it('rejects, never drops, a value in a field this service does not know (SPEC §3)', () => {
    const newer = dataVariant({
      add: [{ name: 'preferredLanguage', type: ['null', 'string'], default: null }],
    });
    const record = toAvroUpdateRequest(anUpdateRequest().build());
    (record.data as Record<string, unknown>).preferredLanguage = 'es';
    const result = readAvro(newer.toBuffer(record), newer);
    assert.equal(!result.ok && result.failure.code, 'data.unknown_field');
  });

  it('treats null as not sent even in a writer schema whose field has no default', () => {
    const noDefaults = dataVariant({
      remove: ['email'],
      add: [{ name: 'email', type: ['null', 'string'] }],
    });
    const result = readAvro(
      noDefaults.toBuffer(toAvroUpdateRequest(anUpdateRequest().build())),
      noDefaults,
    );
    assert.ok(result.ok);
    assert.equal('email' in result.request.patch, false);
  });

  it('refuses to build an Avro record for a data field the schema does not have', () => {
    const request = anUpdateRequest().withData({ frstName: 'Ann' }).build();
    assert.throws(() => toAvroUpdateRequest(request), /no data field frstName/);
  });
});
