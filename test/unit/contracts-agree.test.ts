/**
 * The zod contract (what customer-sync enforces) and the JSON Schema / Avro files (what other
 * teams read and register) must say the same thing. This runs every example in
 * schemas/examples, and a generated set, through both and asserts they agree.
 *
 * Rules JSON Schema cannot state are KNOWN_EXCEPTIONS: there, zod refuses and JSON Schema
 * accepts, and the test checks that it is exactly so (so the list cannot rot).
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import avsc from 'avsc';
import fc from 'fast-check';
import { acceptWellFormedMessage } from '../../src/contracts/accept-well-formed-message.ts';
import {
  parseCustomerUpdateRequested,
  parseWithSchema,
} from '../../src/contracts/customer-update-requested.ts';
import {
  type CustomerUpdated,
  customerUpdatedSchema,
  E164_PATTERN,
  fromAvroRecord,
  toAvroRecord,
} from '../../src/contracts/customer-updated.ts';
import { isErrorCode } from '../../src/contracts/error-codes.ts';
import {
  isPlainJsonObject,
  LIMITS,
  PATTERNS,
  US_STATE_CODES,
} from '../../src/domain/customer-field-rules.ts';
import { CUSTOMER_FIELDS } from '../../src/domain/customer-fields.ts';
import {
  createLinearTimeRegExpEngine,
  PatternWorkMeter,
} from '../../src/messaging/schema-registry/linear-time-regexp.ts';
import { anUpdateRequest } from '../support/update-request-builder.ts';

const SCHEMAS = new URL('../../schemas/', import.meta.url);
const EXAMPLES = new URL('examples/', SCHEMAS);

function readJson(url: URL): unknown {
  return JSON.parse(readFileSync(url, 'utf8'));
}

function jsonFiles(folder: URL): string[] {
  return readdirSync(folder)
    .filter((name) => name.endsWith('.json'))
    .sort();
}

const ajv = new Ajv2020({ strict: true, allowUnionTypes: true });
addFormats.default(ajv);
const requestSchema = readJson(new URL('customer.update.requested.schema.json', SCHEMAS)) as Record<
  string,
  unknown
>;
const updatedSchema = readJson(new URL('customer.updated.schema.json', SCHEMAS)) as Record<
  string,
  unknown
>;
const validateRequest = ajv.compile(requestSchema);
const validateUpdated = ajv.compile(updatedSchema);
const avroType = avsc.Type.forSchema(
  readJson(new URL('customer.updated.avsc', SCHEMAS)) as avsc.Schema,
);

/** Invalid examples that only zod refuses, because JSON Schema cannot state the rule. */
const KNOWN_EXCEPTIONS: Record<string, string> = {
  'birthday-in-the-future': 'a birthday in the future depends on the clock',
  'timezone-unknown-zone': 'JSON Schema checks the shape of a zone name, not that the zone exists',
  'phone-too-short': 'phone validity is libphonenumber metadata, not a pattern',
  'phone-with-extension': 'finding an extension needs a phone number parser',
};

/** The name part and the expected error code of `name.code.json`. */
function expectationOf(file: string): { name: string; code: string } {
  const stem = file.slice(0, -'.json'.length);
  const dot = stem.indexOf('.');
  return { name: stem.slice(0, dot), code: stem.slice(dot + 1) };
}

function zodAccepts(value: unknown): boolean {
  return parseCustomerUpdateRequested(value).ok;
}

function jsonSchemaAccepts(value: unknown): boolean {
  return validateRequest(value) === true;
}

describe('the JSON Schema of customer.update.requested states the zod rules', () => {
  const envelope = requestSchema.properties as Record<string, Record<string, unknown>>;
  const data = (envelope.data?.properties ?? {}) as Record<string, Record<string, unknown>>;
  const notControl = '\\p{Cc}\\p{Cs}';
  const trimmed = (max: number) =>
    `^\\s*[^\\s${notControl}](?:[^${notControl}]{0,${max - 2}}[^\\s${notControl}])?\\s*$`;
  const plain = (max: number) =>
    `^[^\\s${notControl}](?:[^${notControl}]{0,${max - 2}}[^\\s${notControl}])?$`;

  it('uses the same patterns for the identifiers and the timestamp', () => {
    // The UUID rule is a pattern and a `not` there (no lookahead: see the test below).
    const uuidShape = new RegExp(String(envelope.eventId?.pattern), 'u');
    const nilOrMax = new RegExp(
      String((envelope.eventId?.not as { pattern?: string })?.pattern),
      'u',
    );
    const hex = fc.constantFrom(...'0123456789abcdefABCDEF0fF');
    const uuidLike = fc
      .tuple(
        ...[8, 4, 4, 4, 12].map((length) =>
          fc.string({ unit: hex, minLength: length, maxLength: length }),
        ),
      )
      .map((groups) => groups.join('-'));
    fc.assert(
      fc.property(fc.oneof(fc.uuid(), uuidLike, fc.string()), (text) => {
        assert.equal(uuidShape.test(text) && !nilOrMax.test(text), PATTERNS.uuid.test(text), text);
      }),
    );
    for (const text of [
      '00000000-0000-0000-0000-000000000000',
      'FFFFFFFF-ffff-FFFF-ffff-FFFFFFFFFFFF',
    ]) {
      assert.equal(uuidShape.test(text) && !nilOrMax.test(text), false, text);
    }
    assert.equal(envelope.occurredAt?.pattern, PATTERNS.occurredAt.source);
    assert.equal(envelope.tenantId?.pattern, PATTERNS.tenantId.source);
    assert.equal(envelope.externalId?.pattern, PATTERNS.externalId.source);
    assert.equal(envelope.source?.pattern, plain(LIMITS.sourceChars));
  });

  it('uses the same patterns and limits for the data fields', () => {
    assert.equal(data.taskType?.pattern, plain(LIMITS.taskTypeChars));
    assert.equal(data.firstName?.pattern, trimmed(LIMITS.nameChars));
    assert.equal(data.lastName?.pattern, trimmed(LIMITS.nameChars));
    for (const field of ['address1', 'address2', 'city']) {
      assert.equal(data[field]?.pattern, trimmed(LIMITS.addressChars));
    }
    // The local part's 64 characters are a second pattern there (no lookahead).
    const emailPatterns = [
      data.email?.pattern,
      ...((data.email?.allOf ?? []) as Array<{ pattern?: string }>).map((part) => part.pattern),
    ].map((pattern) => new RegExp(String(pattern), 'u'));
    const local = fc.string({
      unit: fc.constantFrom('a', '.', '-', '+', '@'),
      minLength: 60,
      maxLength: 70,
    });
    fc.assert(
      fc.property(
        fc.oneof(
          fc.emailAddress(),
          local.map((part) => `${part}@example.com`),
          fc.string(),
        ),
        (text) => {
          assert.equal(
            emailPatterns.every((pattern) => pattern.test(text)),
            PATTERNS.email.test(text),
            text,
          );
        },
      ),
    );
    assert.equal(data.email?.maxLength, LIMITS.emailChars);
    assert.equal(data.ssnLast4?.pattern, PATTERNS.ssnLast4.source);
    assert.equal(data.timezone?.pattern, PATTERNS.timezone.source);
    assert.equal(data.phone?.maxLength, LIMITS.phoneInputChars);
    assert.equal(data.zip?.pattern, PATTERNS.zip.source);
    assert.equal(data.loanIds?.maxItems, LIMITS.loanIds);
    assert.equal(data.loanReferenceId?.pattern, plain(LIMITS.loanReferenceIdChars));
  });

  it('states every pattern without lookaround or backreferences, so a linear-time engine runs it', () => {
    // JSON Schema 2020-12 Validation §4.3 recommends this subset; the service compiles registry
    // schemas with RE2, which has nothing else (src/messaging/schema-registry/linear-time-regexp.ts).
    const engine = createLinearTimeRegExpEngine(new PatternWorkMeter());
    const patterns: string[] = [];
    JSON.stringify(requestSchema, (key, value: unknown) => {
      if (key === 'pattern' && typeof value === 'string') patterns.push(value);
      return value;
    });
    assert.ok(patterns.length > 10);
    for (const pattern of patterns) assert.doesNotThrow(() => engine(pattern, 'u'), pattern);
  });

  it('accepts exactly the US state codes, in any case', () => {
    const either = (letter: string) => `[${letter}${letter.toLowerCase()}]`;
    const expected = `^(?:${US_STATE_CODES.map((code) => [...code].map(either).join('')).join('|')})$`;
    assert.equal(data.state?.pattern, expected);
  });

  it('knows every customer field, and no other', () => {
    const names = Object.keys(data).sort();
    const expected = [
      ...CUSTOMER_FIELDS,
      'metadata',
      'loanIds',
      'enrich',
      'loanReferenceId',
    ].sort();
    assert.deepEqual(names, expected);
  });
});

describe('schemas/examples of customer.update.requested', () => {
  describe('valid', () => {
    for (const file of jsonFiles(new URL('valid/', EXAMPLES))) {
      it(`both accept ${file}`, () => {
        const value = readJson(new URL(`valid/${file}`, EXAMPLES));
        const parsed = parseCustomerUpdateRequested(value);
        assert.ok(parsed.ok, parsed.ok ? '' : parsed.failure.message);
        assert.ok(jsonSchemaAccepts(value), ajv.errorsText(validateRequest.errors));
      });
    }
  });

  describe('invalid', () => {
    const files = jsonFiles(new URL('invalid/', EXAMPLES));

    it('names a known error code in every file name', () => {
      for (const file of files) assert.ok(isErrorCode(expectationOf(file).code), file);
    });

    for (const file of files) {
      const { name, code } = expectationOf(file);
      const exception = KNOWN_EXCEPTIONS[name];
      it(`refuses ${file}${exception ? ` (JSON Schema cannot: ${exception})` : ' in both'}`, () => {
        const value = readJson(new URL(`invalid/${file}`, EXAMPLES));
        const parsed = parseCustomerUpdateRequested(value);
        assert.equal(parsed.ok ? 'accepted' : parsed.failure.code, code);
        assert.equal(jsonSchemaAccepts(value), exception !== undefined);
      });
    }

    it('has an example for every known exception', () => {
      const names = files.map((file) => expectationOf(file).name);
      for (const name of Object.keys(KNOWN_EXCEPTIONS)) assert.ok(names.includes(name), name);
    });
  });

  it('metadata over 16 KiB is refused by zod only (JSON Schema cannot measure it)', () => {
    const value = anUpdateRequest()
      .withMetadata({ note: 'x'.repeat(LIMITS.metadataBytes) })
      .build();
    assert.equal(zodAccepts(value), false);
    assert.equal(jsonSchemaAccepts(value), true);
  });
});

/* ------------------------------------- generated requests ------------------------------------- */

const WHITESPACE = [' ', '\t', '\n', '\u00a0', '\u2028', '\ufeff'];
const text = (maxLength: number) =>
  fc.string({
    unit: fc.oneof(
      { weight: 6, arbitrary: fc.constantFrom('a', 'Z', '7', '-', "'", 'é', '😀') },
      { weight: 2, arbitrary: fc.constantFrom(...WHITESPACE) },
      {
        weight: 1,
        arbitrary: fc.constantFrom('\u0000', '\u001f', '\u007f', '\u0085', '\ud800', '\udc00'),
      },
      { weight: 1, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }) },
    ),
    maxLength,
  });
/** Padded around a core near the limit, to probe "N characters after trimming". */
const nearLimit = (max: number) =>
  fc
    .tuple(
      fc.string({ unit: fc.constantFrom(...WHITESPACE), maxLength: 3 }),
      fc.integer({ min: max - 2, max: max + 1 }),
      fc.constantFrom('N', '😀'),
      fc.string({ unit: fc.constantFrom(...WHITESPACE), maxLength: 3 }),
    )
    .map(([before, length, unit, after]) => `${before}${unit.repeat(length)}${after}`);
const notAString = fc.constantFrom(42, true, [], {}, ['x']);
const freeText = (max: number) =>
  fc.oneof(text(12), nearLimit(max), notAString, fc.constant(null), fc.constant(''));

const pad = (value: number, width: number) => String(value).padStart(width, '0');
const dateParts = fc.tuple(
  fc.integer({ min: 1850, max: 2020 }),
  fc.integer({ min: 0, max: 13 }),
  fc.integer({ min: 0, max: 32 }),
);
const birthday = fc.oneof(
  dateParts.map(([y, m, d]) => `${pad(y, 4)}-${pad(m, 2)}-${pad(d, 2)}`),
  fc.constantFrom('1985-6-15', '06/15/1985', '19850615', '', null, 19850615),
);
const occurredAt = fc.oneof(
  fc
    .tuple(
      // 2000..2025: a later occurredAt is refused by a clock rule JSON Schema cannot state.
      dateParts.map(([y, m, d]) => `${pad(2000 + ((y - 1850) % 26), 4)}-${pad(m, 2)}-${pad(d, 2)}`),
      fc.constantFrom('T', 't', ' '),
      fc.tuple(
        fc.integer({ min: 0, max: 24 }),
        fc.integer({ min: 0, max: 60 }),
        fc.integer({ min: 0, max: 60 }),
      ),
      fc.string({ unit: fc.constantFrom('0', '5', '9'), maxLength: 10 }),
      fc.oneof(
        fc.constantFrom('Z', 'z', '', '+0100', '+01'),
        fc
          .tuple(
            fc.constantFrom('+', '-'),
            fc.integer({ min: 0, max: 24 }),
            fc.integer({ min: 0, max: 60 }),
          )
          .map(([sign, h, m]) => `${sign}${pad(h, 2)}:${pad(m, 2)}`),
      ),
    )
    .map(
      ([date, separator, [h, mi, s], fraction, offset]) =>
        `${date}${separator}${pad(h, 2)}:${pad(mi, 2)}:${pad(s, 2)}${fraction ? `.${fraction}` : ''}${offset}`,
    ),
  fc.constantFrom(1741944413589, null, ''),
);
const identifier = (max: number) =>
  fc.oneof(
    fc.string({
      unit: fc.constantFrom('a', 'Z', '0', '.', '_', '-', ':'),
      minLength: 1,
      maxLength: 12,
    }),
    fc.string({ unit: fc.constantFrom('a', ':', ' ', '/', 'é'), maxLength: 4 }),
    fc.integer({ min: max - 1, max: max + 1 }).map((length) => 'x'.repeat(length)),
    notAString,
  );
const letter = fc.constantFrom(...'ACDEGHIKLMNOPRSTUVWXYZacegmnpx');

const dataFields = {
  taskType: fc.oneof(fc.constant('collections'), freeText(LIMITS.taskTypeChars)),
  firstName: freeText(LIMITS.nameChars),
  lastName: freeText(LIMITS.nameChars),
  email: fc.oneof(
    fc.constantFrom(
      'ann@example.com',
      'Ann.Lee+x@Example.COM',
      'ann@localhost',
      'ann@@example.com',
      'ann@example.xn--p1ai',
    ),
    fc.string({
      unit: fc.constantFrom('a', 'B', '.', '@', '-', '_', '+', ' ', 'é', '1'),
      maxLength: 16,
    }),
    fc.constant(`${'a'.repeat(64)}@${'d'.repeat(63)}.${'e'.repeat(63)}.${'f'.repeat(57)}.com`),
    fc.constant(`${'a'.repeat(65)}@example.com`),
    fc.constant(`a${'a'.repeat(64)}@${'d'.repeat(63)}.${'e'.repeat(63)}.${'f'.repeat(57)}.com`),
    fc.constant(null),
    notAString,
  ),
  birthday,
  ssnLast4: fc.oneof(fc.stringMatching(/^[0-9x ]{3,5}$/), fc.constant(null), notAString),
  timezone: fc.oneof(
    fc.constantFrom(
      'America/New_York',
      'america/new_york',
      'UTC',
      'Etc/GMT+5',
      'US/Eastern',
      'EST5EDT',
    ),
    fc.constantFrom('+01:00', '-05:00', '', 'New York', '1abc', 'America/', '/UTC', 'x'.repeat(65)),
    fc.constant(null),
    notAString,
  ),
  phone: fc.oneof(
    fc.constantFrom('(415) 555-2671', '+44 20 7946 0958', '415.555.2671', '', '4'.repeat(65)),
    fc.constant(null),
    notAString,
  ),
  address1: freeText(LIMITS.addressChars),
  address2: freeText(LIMITS.addressChars),
  city: freeText(LIMITS.addressChars),
  state: fc.oneof(
    fc.tuple(letter, letter).map(([a, b]) => `${a}${b}`),
    fc.string({ unit: letter, maxLength: 3 }),
    fc.constant(null),
    notAString,
  ),
  zip: fc.oneof(fc.stringMatching(/^[0-9][0-9-]{3,10}$/), fc.constant(null), notAString),
  doNotCall: fc.constantFrom(true, false, null, 'true', 1),
  isTest: fc.constantFrom(true, false, null, 'false', 0),
  metadata: fc.constantFrom({}, { a: 1 }, { a: { b: null } }, null, [], 'x', 1),
  loanIds: fc.oneof(
    fc.array(fc.oneof(fc.integer({ min: -1, max: 4 }), fc.constantFrom(1.5, 2 ** 53, '1')), {
      maxLength: 4,
    }),
    fc.constantFrom(1000, 1001).map((length) => Array.from({ length }, (_, index) => index + 1)),
    fc.constantFrom(null, 'x', 7),
  ),
  enrich: fc.constantFrom(true, false, null, 'true'),
  loanReferenceId: freeText(LIMITS.loanReferenceIdChars),
  unknownField: fc.constant('x'),
};

const envelopeFields = {
  eventId: fc.oneof(
    fc.uuid(),
    fc.uuid().map((id) => id.toUpperCase()),
    fc.constantFrom('00000000-0000-0000-0000-000000000000', 'not-a-uuid', '', 7),
  ),
  type: fc.constantFrom('customer.update.requested', 'customer.updated'),
  version: fc.constantFrom(1, 2, 0, '1', 1.5),
  occurredAt,
  tenantId: identifier(LIMITS.tenantIdChars),
  externalId: identifier(LIMITS.externalIdChars),
  source: freeText(LIMITS.sourceChars),
  data: fc.constantFrom('x', null, [], {}),
  unknownTopLevel: fc.constant(1),
};

/** One data field, set to a generated value. */
const generatedDataField = fc
  .constantFrom(...(Object.keys(dataFields) as (keyof typeof dataFields)[]))
  .chain((name) => dataFields[name].map((value) => ({ name, value })));

type Change = { where: 'envelope' | 'data'; name: string; value: unknown; remove: boolean };
function changesOf<T extends Record<string, fc.Arbitrary<unknown>>>(
  where: Change['where'],
  fields: T,
): fc.Arbitrary<Change> {
  return fc
    .tuple(fc.constantFrom(...Object.keys(fields)), fc.integer({ min: 0, max: 9 }))
    .chain(([name, roll]) =>
      (fields[name] as fc.Arbitrary<unknown>).map((value) => ({
        where,
        name,
        value,
        remove: roll === 0,
      })),
    );
}

/** A valid request with 0..4 changes: each sets a field to a generated value or removes it. */
const generatedRequest = fc
  .array(fc.oneof(changesOf('envelope', envelopeFields), changesOf('data', dataFields)), {
    maxLength: 4,
  })
  .map((changes) => {
    const builder = anUpdateRequest();
    for (const { where, name, value, remove } of changes) {
      if (where === 'envelope') {
        if (remove) builder.withoutEnvelopeField(name);
        else if (name === 'data') builder.withRawData(value);
        else builder.withEnvelopeField(name, value);
      } else if (remove) builder.withoutField(name);
      else builder.withField(name, value);
    }
    return builder.build();
  });

describe('generated customer.update.requested values', () => {
  it('are accepted or refused alike by zod and the JSON Schema (property)', () => {
    let accepted = 0;
    let refused = 0;
    fc.assert(
      fc.property(generatedRequest, (value) => {
        const zod = zodAccepts(value);
        if (zod) accepted++;
        else refused++;
        assert.equal(jsonSchemaAccepts(value), zod, `zod ${zod ? 'accepts' : 'refuses'}`);
      }),
      { numRuns: 2000 },
    );
    assert.ok(
      accepted > 200 && refused > 200,
      `a useful mix: ${accepted} valid, ${refused} invalid`,
    );
  });

  it('agree field by field on a valid envelope (property)', () => {
    fc.assert(
      fc.property(generatedDataField, ({ name, value }) => {
        const request = anUpdateRequest().withField(name, value).build();
        assert.equal(jsonSchemaAccepts(request), zodAccepts(request), `data.${name}`);
      }),
      { numRuns: 3000 },
    );
  });
});

/* ------------------------------------- the fast path of zod ------------------------------------ */

describe('the fast path (accept-well-formed-message.ts) and the zod schema', () => {
  // One fixed clock for both: birthdays and occurredAt are judged against it.
  const NOW = Date.UTC(2026, 0, 5, 12);
  const now = () => NOW;
  const withAndWithout = (value: unknown) => {
    assert.deepStrictEqual(
      parseCustomerUpdateRequested(value, { now }),
      parseWithSchema(value, { now }),
    );
    return isPlainJsonObject(value) && acceptWellFormedMessage(value, NOW) !== undefined;
  };

  it('give the same answer, request or failure, on every example; valid ones take the fast path', () => {
    for (const folder of ['valid', 'invalid']) {
      for (const file of jsonFiles(new URL(`${folder}/`, EXAMPLES))) {
        const fast = withAndWithout(readJson(new URL(`${folder}/${file}`, EXAMPLES)));
        if (folder === 'valid') assert.ok(fast, `${file} should not need zod`);
        else assert.ok(!fast, `${file} is invalid, the fast path must not take it`);
      }
    }
  });

  it('give the same answer on generated values, valid and not (property)', () => {
    let fast = 0;
    let valid = 0;
    fc.assert(
      fc.property(generatedRequest, (value) => {
        if (withAndWithout(value)) fast++;
        if (parseWithSchema(value, { now }).ok) valid++;
      }),
      { numRuns: 3000 },
    );
    // Most valid values must take the fast path, or it is not worth having.
    assert.ok(fast > valid * 0.8, `fast path took ${fast} of ${valid} valid values`);
  });

  it('give the same answer field by field on a valid envelope (property)', () => {
    fc.assert(
      fc.property(generatedDataField, ({ name, value }) => {
        withAndWithout(anUpdateRequest().withField(name, value).build());
      }),
      { numRuns: 3000 },
    );
  });
});

/* ---------------------------------------- customer.updated ------------------------------------- */

describe('customer.updated: zod, JSON Schema and Avro agree', () => {
  const examples = new URL('customer-updated/', EXAMPLES);
  const files = jsonFiles(examples);

  it('has examples', () => {
    assert.ok(files.length >= 3);
  });

  for (const file of files) {
    it(`all three accept ${file}, and Avro round-trips it`, () => {
      const event = readJson(new URL(file, examples)) as CustomerUpdated;
      const parsed = customerUpdatedSchema.safeParse(event);
      assert.ok(parsed.success, parsed.error?.message);
      assert.ok(validateUpdated(event), ajv.errorsText(validateUpdated.errors));
      const record = toAvroRecord(event);
      assert.ok(avroType.isValid(record), 'valid Avro record');
      assert.deepEqual(fromAvroRecord(avroType.fromBuffer(avroType.toBuffer(record))), event);
    });
  }

  const base = readJson(new URL(files[0] ?? 'update.json', examples)) as CustomerUpdated;
  const mutations: Record<string, (event: CustomerUpdated) => unknown> = {
    'an unknown reason': (event) => ({ ...event, reason: 'merge' }),
    'a phone that is not E.164': (event) => ({
      ...event,
      customer: { ...event.customer, phone: '(415) 555-2671' },
    }),
    'a lower-case state': (event) => ({ ...event, customer: { ...event.customer, state: 'ca' } }),
    'an unknown changed field': (event) => ({ ...event, changedFields: ['nickname'] }),
    'a changed field named twice': (event) => ({ ...event, changedFields: ['phone', 'phone'] }),
    'a missing customer field': (event) => {
      const { zip: _zip, ...customer } = event.customer;
      return { ...event, customer };
    },
    'an extra top-level field': (event) => ({ ...event, extra: true }),
    'version 2': (event) => ({ ...event, version: 2 }),
    'a customer version of 0': (event) => ({
      ...event,
      customer: { ...event.customer, version: 0 },
    }),
  };
  for (const [name, mutate] of Object.entries(mutations)) {
    it(`zod and JSON Schema both refuse ${name}`, () => {
      const value = mutate(base);
      assert.equal(customerUpdatedSchema.safeParse(value).success, false);
      assert.equal(validateUpdated(value), false);
    });
  }

  it('uses the same E.164 pattern in both', () => {
    const properties = updatedSchema.properties as Record<string, Record<string, unknown>>;
    const customer = properties.customer?.properties as Record<string, Record<string, unknown>>;
    assert.equal(customer.phone?.pattern, E164_PATTERN.source);
  });

  it('Avro names the same fields as the event', () => {
    const avro = readJson(new URL('customer.updated.avsc', SCHEMAS)) as {
      fields: { name: string; type: unknown }[];
    };
    const topLevel = avro.fields.map((field) => field.name);
    assert.deepEqual(topLevel, Object.keys(base));
    const customer = avro.fields.find((field) => field.name === 'customer')?.type as {
      fields: { name: string }[];
    };
    assert.deepEqual(
      customer.fields.map((field) => field.name),
      Object.keys(base.customer),
    );
  });
});
