import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  type CustomerUpdateRequest,
  DEFAULT_MAX_MESSAGE_BYTES,
  decodeJsonMessage,
  normaliseOccurredAt,
  type ParseResult,
  parseCustomerUpdateRequested,
  type ValidationFailure,
} from '../../src/contracts/customer-update-requested.ts';
import { ALL_ERROR_CODES, ERROR_CODES, isErrorCode } from '../../src/contracts/error-codes.ts';
import { LIMITS, US_STATE_CODES } from '../../src/domain/customer-field-rules.ts';
import { anUpdateRequest, type UpdateRequestBuilder } from '../support/update-request-builder.ts';

function accepted(result: ParseResult): CustomerUpdateRequest {
  if (!result.ok) assert.fail(`expected the event to be accepted: ${result.failure.message}`);
  return result.request;
}

function refused(result: ParseResult): ValidationFailure {
  if (result.ok) assert.fail('expected the event to be refused');
  return result.failure;
}

/** Parses as of `now`; an event built with the default occurredAt (the real now) is moved to it. */
function parse(builder: UpdateRequestBuilder, now?: () => number): ParseResult {
  if (!now) return parseCustomerUpdateRequested(builder.build());
  const value = builder.build();
  if (Math.abs(Date.parse(String(value.occurredAt)) - Date.now()) < 60_000) {
    value.occurredAt = new Date(now()).toISOString();
  }
  return parseCustomerUpdateRequested(value, { now });
}

/** The normalised value of one data field, given a wire value for it. */
function storedAs(field: string, value: unknown): unknown {
  const request = accepted(parse(anUpdateRequest().withField(field, value)));
  return (request.patch as Record<string, unknown>)[field];
}

function assertInvalidField(field: string, value: unknown, now?: () => number): ValidationFailure {
  const failure = refused(parse(anUpdateRequest().withField(field, value), now));
  assert.equal(failure.code, ERROR_CODES.dataInvalidField, failure.message);
  assert.equal(failure.path, `data.${field}`);
  return failure;
}

function assertInvalidEnvelope(name: string, value: unknown): ValidationFailure {
  const failure = refused(parse(anUpdateRequest().withEnvelopeField(name, value)));
  assert.equal(failure.code, ERROR_CODES.envelopeInvalid, failure.message);
  assert.equal(failure.path, name);
  return failure;
}

const A_NAME_OF_100 = 'N'.repeat(100);

describe('customer.update.requested (SPEC §3)', () => {
  describe('the envelope', () => {
    it('accepts a minimal update that carries only data.taskType', () => {
      const request = accepted(
        parse(anUpdateRequest().withTenant('t1').withExternalId('c-1').withTaskType('collections')),
      );
      assert.equal(request.tenantId, 't1');
      assert.equal(request.externalId, 'c-1');
      assert.equal(request.taskType, 'collections');
      assert.deepEqual(request.patch, { taskType: 'collections' });
      assert.equal(request.version, 1);
      assert.equal(request.enrich, false);
      assert.equal('metadataPatch' in request, false);
      assert.equal('loanIds' in request, false);
      assert.equal('source' in request, false);
    });

    it('accepts an eventId of any UUID version and keeps it lower-case', () => {
      for (const id of [
        'C232AB00-9414-11EC-B3C8-9F6BDECED846', // v1
        '5df41881-3aed-3515-88a7-2f4a814cf09e', // v3
        '919108f7-52d1-4320-9bac-f847db4148a8', // v4
        '2ed6657d-e927-568b-95e1-2665a8aea6a2', // v5
        '017F22E2-79B0-7CC3-98C4-DC0C0C07398F', // v7
      ]) {
        assert.equal(accepted(parse(anUpdateRequest().withEventId(id))).eventId, id.toLowerCase());
      }
    });

    it('refuses an eventId that is not a UUID, or is the nil or max UUID', () => {
      for (const id of [
        'evt-1',
        '919108f752d143209bacf847db4148a8',
        '{919108f7-52d1-4320-9bac-f847db4148a8}',
        '00000000-0000-0000-0000-000000000000',
        'FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF',
        42,
      ]) {
        assertInvalidEnvelope('eventId', id);
      }
      assert.equal(
        refused(parse(anUpdateRequest().withoutEnvelopeField('eventId'))).path,
        'eventId',
      );
    });

    it('refuses any type but "customer.update.requested"', () => {
      assertInvalidEnvelope('type', 'customer.updated');
      assertInvalidEnvelope('type', 'Customer.Update.Requested');
    });

    it('understands envelope version 1 only, and says a newer one needs a newer service', () => {
      const newer = assertInvalidEnvelope('version', 2);
      assert.match(newer.message, /newer than this service understands/);
      assert.match(assertInvalidEnvelope('version', 0).message, /must be 1/);
      assertInvalidEnvelope('version', 1.5);
      assertInvalidEnvelope('version', '1');
      assert.equal(
        refused(parse(anUpdateRequest().withoutEnvelopeField('version'))).path,
        'version',
      );
    });

    it('accepts a tenantId of 1..64 characters of A-Z a-z 0-9 . _ -', () => {
      for (const tenant of ['t', 'acme-lending', 'ACME_lending.eu', 'x'.repeat(64)]) {
        assert.equal(accepted(parse(anUpdateRequest().withTenant(tenant))).tenantId, tenant);
      }
    });

    it('refuses a tenantId with a colon, since the Kafka key is <tenantId>:<externalId>', () => {
      assertInvalidEnvelope('tenantId', 'acme:lending');
    });

    it('refuses an empty, over-long or oddly spelled tenantId', () => {
      for (const tenant of ['', 'x'.repeat(65), 'acme lending', 'acmé', null]) {
        assertInvalidEnvelope('tenantId', tenant);
      }
    });

    it('accepts an externalId of 1..128 characters of A-Z a-z 0-9 . _ : -', () => {
      for (const id of ['1', 'CUST-000123', 'crm:42.a_b', 'x'.repeat(128)]) {
        assert.equal(accepted(parse(anUpdateRequest().withExternalId(id))).externalId, id);
      }
    });

    it('refuses an externalId that is empty, over-long or has other characters', () => {
      for (const id of ['', 'x'.repeat(129), 'CUST 1', 'CUST/1', 'ÇUST', 7]) {
        assertInvalidEnvelope('externalId', id);
      }
    });

    it('keeps an optional source for audit, and treats null as no source', () => {
      assert.equal(accepted(parse(anUpdateRequest().withSource('los-v2'))).source, 'los-v2');
      assert.equal('source' in accepted(parse(anUpdateRequest().withSource(null))), false);
      assertInvalidEnvelope('source', '');
      assertInvalidEnvelope('source', 's'.repeat(129));
      assertInvalidEnvelope('source', ' padded ');
    });

    it('refuses unknown top-level fields, pointing customer fields to data', () => {
      const failure = refused(parse(anUpdateRequest().withEnvelopeField('firstName', 'Ann')));
      assert.equal(failure.code, ERROR_CODES.envelopeInvalid);
      assert.match(failure.message, /"firstName" \("firstName" belongs inside data\)/);
      const typo = refused(parse(anUpdateRequest().withEnvelopeField('tenantID', 't1')));
      assert.match(typo.message, /"tenantID" \(did you mean "tenantId"\?\)/);
    });

    it('refuses an event without data, or whose data is not an object', () => {
      for (const builder of [
        anUpdateRequest().withoutEnvelopeField('data'),
        anUpdateRequest().withRawData('firstName=Ann'),
        anUpdateRequest().withRawData([{ taskType: 'collections' }]),
        anUpdateRequest().withRawData(null),
      ]) {
        const failure = refused(parse(builder));
        assert.equal(failure.code, ERROR_CODES.envelopeInvalid);
        assert.equal(failure.path, 'data');
      }
    });

    it('refuses a message value that is not a JSON object with decode.not_an_object', () => {
      for (const value of [[], [anUpdateRequest().build()], 'text', 42, null, true]) {
        assert.equal(
          refused(parseCustomerUpdateRequested(value)).code,
          ERROR_CODES.decodeNotAnObject,
        );
      }
    });
  });

  describe('occurredAt', () => {
    it('requires an RFC 3339 timestamp with an offset', () => {
      for (const text of [
        '2025-03-14T09:26:53',
        '2025-03-14 09:26:53Z',
        '2025-03-14',
        '2025-03-14T09:26Z',
        '2025-03-14T09:26:53+0100',
        '2025-03-14T09:26:53+01',
        '2025-03-14T24:00:00Z',
        '2025-02-30T00:00:00Z',
        '2023-02-29T00:00:00Z',
        '2016-12-31T23:59:60Z',
        '2025-03-14T09:26:53.Z',
        '2025-03-14T09:26:53.1234567890Z',
        '+002025-03-14T09:26:53Z',
        1741944413589,
      ]) {
        const failure = assertInvalidEnvelope('occurredAt', text);
        assert.match(failure.message, /RFC 3339/);
      }
    });

    it('refuses an occurredAt more than a day ahead of our clock, which would win every later write', () => {
      const now = () => Date.parse('2026-01-01T00:00:00Z');
      const far = refused(parse(anUpdateRequest().occurredAt('2026-01-02T00:00:01Z'), now));
      assert.equal(far.code, ERROR_CODES.envelopeInvalid);
      assert.equal(far.path, 'occurredAt');
      accepted(parse(anUpdateRequest().occurredAt('2026-01-01T23:59:59Z'), now));
    });

    it('stores occurredAt in UTC with nine fractional digits', () => {
      const request = accepted(parse(anUpdateRequest().occurredAt('2025-03-14T09:26:53.589Z')));
      assert.equal(request.occurredAt, '2025-03-14T09:26:53.589000000Z');
    });

    it('applies the offset without losing the nanoseconds', () => {
      assert.equal(
        normaliseOccurredAt('2025-03-14T04:26:53.123456789-05:00'),
        '2025-03-14T09:26:53.123456789Z',
      );
      assert.equal(
        normaliseOccurredAt('2025-03-14T14:56:53.000000001+05:30'),
        '2025-03-14T09:26:53.000000001Z',
      );
    });

    it('carries the offset across day, month, year and leap-day boundaries', () => {
      assert.equal(
        normaliseOccurredAt('2025-01-01T00:30:00+01:00'),
        '2024-12-31T23:30:00.000000000Z',
      );
      assert.equal(
        normaliseOccurredAt('2024-02-28T23:00:00-01:30'),
        '2024-02-29T00:30:00.000000000Z',
      );
      assert.equal(
        normaliseOccurredAt('2023-02-28T23:00:00-01:30'),
        '2023-03-01T00:30:00.000000000Z',
      );
      assert.equal(
        normaliseOccurredAt('1999-12-31T23:59:59.9-23:59'),
        '2000-01-01T23:58:59.900000000Z',
      );
    });

    it('accepts lower-case t and z and the -00:00 offset, as RFC 3339 does', () => {
      assert.equal(normaliseOccurredAt('2025-03-14t09:26:53z'), '2025-03-14T09:26:53.000000000Z');
      assert.equal(
        normaliseOccurredAt('2025-03-14T09:26:53-00:00'),
        '2025-03-14T09:26:53.000000000Z',
      );
    });

    it('keeps years 0000..9999 in UTC and refuses timestamps that leave them', () => {
      assert.equal(normaliseOccurredAt('0000-01-01T00:00:00Z'), '0000-01-01T00:00:00.000000000Z');
      assert.equal(normaliseOccurredAt('0099-03-01T00:00:00Z'), '0099-03-01T00:00:00.000000000Z');
      assert.equal(normaliseOccurredAt('0000-01-01T00:00:00+00:01'), undefined);
      assert.equal(normaliseOccurredAt('9999-12-31T23:59:00-00:01'), undefined);
    });

    it('agrees with Date at millisecond precision (property)', () => {
      fc.assert(
        fc.property(
          fc.date({
            min: new Date('1000-01-01T00:00:00Z'),
            max: new Date('9998-12-31T00:00:00Z'),
            noInvalidDate: true,
          }),
          fc.integer({ min: -(23 * 60 + 59), max: 23 * 60 + 59 }),
          fc.integer({ min: 0, max: 999_999 }),
          (date, offsetMinutes, subMillisecond) => {
            const local = new Date(date.getTime() + offsetMinutes * 60_000).toISOString();
            const sign = offsetMinutes < 0 ? '-' : '+';
            const abs = Math.abs(offsetMinutes);
            const offset = `${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
            const fraction = `${local.slice(20, 23)}${String(subMillisecond).padStart(6, '0')}`;
            const text = `${local.slice(0, 19)}.${fraction}${offset}`;
            const expected = `${date.toISOString().slice(0, 19)}.${fraction}Z`;
            assert.equal(normaliseOccurredAt(text), expected);
          },
        ),
      );
    });

    it('normalises to a form whose string order is time order (property)', () => {
      const timestamp = fc
        .tuple(
          fc.date({
            min: new Date('1970-01-02T00:00:00Z'),
            max: new Date('2200-01-01T00:00:00Z'),
            noInvalidDate: true,
          }),
          fc.integer({ min: 0, max: 999_999 }),
        )
        .map(([date, sub]) => ({
          text: `${date.toISOString().slice(0, 23)}${String(sub).padStart(6, '0')}Z`,
          nanos: BigInt(date.getTime()) * 1_000_000n + BigInt(sub),
        }));
      fc.assert(
        fc.property(timestamp, timestamp, (a, b) => {
          const na = normaliseOccurredAt(a.text) ?? assert.fail('a is valid');
          const nb = normaliseOccurredAt(b.text) ?? assert.fail('b is valid');
          assert.equal(Math.sign(na.localeCompare(nb, 'en')), Math.sign(Number(a.nanos - b.nanos)));
          assert.equal(na < nb, a.nanos < b.nanos);
        }),
      );
    });
  });

  describe('data', () => {
    it('requires data.taskType, and puts it in the patch', () => {
      const request = accepted(parse(anUpdateRequest().withTaskType('early-collections')));
      assert.equal(request.taskType, 'early-collections');
      assert.equal(request.patch.taskType, 'early-collections');
      const missing = refused(parse(anUpdateRequest().withoutField('taskType')));
      assert.equal(missing.code, ERROR_CODES.dataInvalidField);
      assert.equal(missing.path, 'data.taskType');
      assert.match(missing.message, /is required/);
      assertInvalidField('taskType', null);
      assertInvalidField('taskType', '');
      assertInvalidField('taskType', ' collections');
      assertInvalidField('taskType', 't'.repeat(65));
    });

    it('refuses an unknown field in data, naming it, so that a typo is not silently lost', () => {
      const failure = refused(parse(anUpdateRequest().withData({ middleName: 'Q' })));
      assert.equal(failure.code, ERROR_CODES.dataUnknownField);
      assert.equal(failure.path, 'data');
      assert.match(failure.message, /"middleName"/);
    });

    it('suggests the known field when an unknown one differs only in case', () => {
      const failure = refused(
        parse(anUpdateRequest().withData({ firstname: 'Ann', ZIP: '10001' })),
      );
      assert.match(failure.message, /"firstname" \(did you mean "firstName"\?\)/);
      assert.match(failure.message, /"ZIP" \(did you mean "zip"\?\)/);
    });

    it('leaves an absent field out of the patch and keeps a null one, which clears it', () => {
      const request = accepted(parse(anUpdateRequest().withData({ email: null, phone: null })));
      assert.deepEqual(request.patch, { taskType: 'collections', email: null, phone: null });
      assert.equal('firstName' in request.patch, false);
    });

    it('accepts a null for every customer field except taskType', () => {
      const fields = [
        'firstName', 'lastName', 'email', 'birthday', 'ssnLast4', 'timezone', 'phone', 'address1',
        'address2', 'city', 'state', 'zip', 'doNotCall', 'isTest',
      ]; // biome-ignore format: a list
      const nulls = Object.fromEntries(fields.map((field) => [field, null]));
      const request = accepted(parse(anUpdateRequest().withData(nulls)));
      assert.deepEqual(request.patch, { taskType: 'collections', ...nulls });
    });

    describe('names', () => {
      it('accepts either name alone, or both', () => {
        assert.deepEqual(accepted(parse(anUpdateRequest().withData({ firstName: 'Ann' }))).patch, {
          taskType: 'collections',
          firstName: 'Ann',
        });
        assert.deepEqual(accepted(parse(anUpdateRequest().withData({ lastName: 'Lee' }))).patch, {
          taskType: 'collections',
          lastName: 'Lee',
        });
        const both = accepted(
          parse(anUpdateRequest().withData({ firstName: 'Ann', lastName: 'Lee' })),
        );
        assert.equal(both.patch.firstName, 'Ann');
        assert.equal(both.patch.lastName, 'Lee');
      });

      it('stores names trimmed', () => {
        assert.equal(storedAs('firstName', '  Ann\t'), 'Ann');
        assert.equal(storedAs('lastName', '\n García-López \u00a0'), 'García-López');
      });

      it('allows 100 characters after trimming, however much whitespace surrounds them', () => {
        assert.equal(storedAs('firstName', `   ${A_NAME_OF_100}   `), A_NAME_OF_100);
        assertInvalidField('firstName', `${A_NAME_OF_100}N`);
      });

      it('counts characters, not UTF-16 code units', () => {
        const emoji = '😀'.repeat(100);
        assert.equal(storedAs('firstName', emoji), emoji);
        assertInvalidField('firstName', `${emoji}😀`);
      });

      it('refuses an empty or blank name (send null to clear it)', () => {
        assertInvalidField('firstName', '');
        assert.match(assertInvalidField('lastName', '   ').message, /empty or only whitespace/);
      });

      it('refuses control characters and unpaired surrogates inside a name', () => {
        for (const name of ['An\u0000n', 'An\nn', 'An\u0085n', 'An\ud800n']) {
          assertInvalidField('firstName', name);
        }
      });

      it('refuses a name that is not a string', () => {
        assertInvalidField('firstName', 42);
        assertInvalidField('lastName', ['Ann']);
      });
    });

    describe('email', () => {
      it('stores the email with a lower-cased domain and the local part untouched', () => {
        assert.equal(storedAs('email', 'Ann.Lee+Loans@Example.COM'), 'Ann.Lee+Loans@example.com');
      });

      it('accepts an address of up to 254 characters', () => {
        const local = 'a'.repeat(64);
        const domain = `${'d'.repeat(63)}.${'e'.repeat(63)}.${'f'.repeat(57)}.com`;
        const address = `${local}@${domain}`;
        assert.equal(address.length, 254);
        assert.equal(storedAs('email', address), address);
        assertInvalidField('email', `a${address}`);
      });

      it('refuses what is not an email address', () => {
        for (const email of [
          'ann',
          'ann@',
          '@example.com',
          'ann@example',
          'ann lee@example.com',
          ' ann@example.com',
          'ann..lee@example.com',
          '.ann@example.com',
          'ann@-example.com',
          'ann@example..com',
          `${'a'.repeat(65)}@example.com`,
          'ann@exa_mple.com',
        ]) {
          assertInvalidField('email', email);
        }
      });

      it('accepts an internationalised (punycode) top-level domain', () => {
        assert.equal(storedAs('email', 'ann@example.XN--P1AI'), 'ann@example.xn--p1ai');
      });
    });

    describe('birthday', () => {
      const now = () => Date.parse('2025-06-15T12:00:00Z');

      it('accepts a real calendar date in YYYY-MM-DD format', () => {
        assert.equal(storedAs('birthday', '1985-06-15'), '1985-06-15');
        assert.equal(storedAs('birthday', '2000-02-29'), '2000-02-29');
      });

      it('refuses a date that does not exist', () => {
        for (const date of [
          '1985-02-29',
          '1900-02-29',
          '1985-04-31',
          '1985-13-01',
          '1985-00-10',
          '1985-01-00',
        ]) {
          assert.match(assertInvalidField('birthday', date).message, /real calendar date/);
        }
      });

      it('refuses other formats', () => {
        for (const date of [
          '06/15/1985',
          '1985-6-15',
          '19850615',
          '1985-06-15T00:00:00Z',
          19850615,
        ]) {
          assertInvalidField('birthday', date);
        }
      });

      it('refuses a birthday before 1900', () => {
        assert.equal(storedAs('birthday', '1900-01-01'), '1900-01-01');
        assert.match(assertInvalidField('birthday', '1899-12-31').message, /before 1900-01-01/);
      });

      it('refuses a birthday in the future of the clock it is given', () => {
        const request = parse(anUpdateRequest().withField('birthday', '2025-06-16'), now);
        assert.equal(
          accepted(request).patch.birthday,
          '2025-06-16',
          'still today somewhere (UTC+14)',
        );
        const failure = assertInvalidField('birthday', '2025-06-17', now);
        assert.match(failure.message, /in the future/);
      });

      it('judges the future by the injected clock, so a replay later accepts what was valid then', () => {
        const later = () => Date.parse('2030-01-01T00:00:00Z');
        assert.equal(
          accepted(parse(anUpdateRequest().withField('birthday', '2026-01-01'), later)).patch
            .birthday,
          '2026-01-01',
        );
      });
    });

    describe('ssnLast4', () => {
      it('accepts exactly 4 digits', () => {
        assert.equal(storedAs('ssnLast4', '0042'), '0042');
      });

      it('refuses anything else', () => {
        for (const ssn of ['123', '12345', '12a4', ' 1234', '١٢٣٤', 1234])
          assertInvalidField('ssnLast4', ssn);
      });
    });

    describe('timezone', () => {
      it('accepts canonical IANA names and their aliases', () => {
        for (const zone of [
          'America/New_York',
          'America/Argentina/Buenos_Aires',
          'UTC',
          'Etc/UTC',
          'Etc/GMT+5',
          'US/Eastern',
          'Asia/Calcutta',
          'Europe/Kiev',
          'EST5EDT',
        ]) {
          assert.equal(storedAs('timezone', zone), zone);
        }
      });

      it('corrects the case of a zone name', () => {
        assert.equal(storedAs('timezone', 'america/new_york'), 'America/New_York');
        assert.equal(storedAs('timezone', 'utc'), 'UTC');
      });

      it('refuses offset strings, which are not zone names even where Intl accepts them', () => {
        for (const zone of ['+01:00', '-05:00', '+0100', 'Z', 'GMT+01:00']) {
          assertInvalidField('timezone', zone);
        }
      });

      it('refuses names that are not in the IANA database', () => {
        for (const zone of [
          'Mars/Olympus_Mons',
          'America/Springfield',
          'Etc/GMT+13',
          '',
          'America/',
          'New York',
        ]) {
          assertInvalidField('timezone', zone);
        }
      });
    });

    describe('phone', () => {
      it('stores any common US format as E.164', () => {
        for (const phone of [
          '(415) 555-2671',
          '415-555-2671',
          '415.555.2671',
          '4155552671',
          '+1 415 555 2671',
          '1 (415) 555-2671',
          '+14155552671',
        ]) {
          assert.equal(storedAs('phone', phone), '+14155552671', phone);
        }
      });

      it('keeps the country of an international number', () => {
        assert.equal(storedAs('phone', '+44 20 7946 0958'), '+442079460958');
        assert.equal(storedAs('phone', '+33 1 42 68 53 00'), '+33142685300');
      });

      it('refuses numbers that are not valid', () => {
        for (const phone of [
          '555-1234',
          '12345',
          'call me',
          '+1 999 555 0123',
          '',
          '4'.repeat(65),
        ]) {
          assertInvalidField('phone', phone);
        }
      });

      it('refuses an extension rather than dropping it', () => {
        assert.match(assertInvalidField('phone', '415-555-2671 ext. 12').message, /extension/);
      });

      it('refuses a number that is not a string', () => {
        assertInvalidField('phone', 4155552671);
      });
    });

    describe('address', () => {
      it('stores address lines and city trimmed', () => {
        assert.equal(storedAs('address1', ' 123 Main St '), '123 Main St');
        assert.equal(storedAs('address2', 'Apt 4B\t'), 'Apt 4B');
        assert.equal(storedAs('city', '  San Francisco'), 'San Francisco');
      });

      it('allows 200 characters after trimming', () => {
        const line = 'a'.repeat(200);
        assert.equal(storedAs('address1', ` ${line} `), line);
        for (const field of ['address1', 'address2', 'city']) assertInvalidField(field, `${line}a`);
      });

      it('refuses a blank line (send null to clear it)', () => {
        for (const field of ['address1', 'address2', 'city']) assertInvalidField(field, '  ');
      });
    });

    describe('state', () => {
      it('stores the state code upper-case, whatever the case it came in', () => {
        assert.equal(storedAs('state', 'ca'), 'CA');
        assert.equal(storedAs('state', 'Ny'), 'NY');
      });

      it('accepts DC, the territories, the freely associated states and the military codes', () => {
        for (const code of [
          'DC',
          'PR',
          'VI',
          'GU',
          'AS',
          'MP',
          'FM',
          'MH',
          'PW',
          'AA',
          'AE',
          'AP',
        ]) {
          assert.equal(storedAs('state', code), code);
        }
        assert.equal(US_STATE_CODES.length, 62);
      });

      it('refuses what is not a US state or territory code', () => {
        for (const code of ['ON', 'UM', 'XX', 'CAL', 'C', ' CA', 'California', 6])
          assertInvalidField('state', code);
      });
    });

    describe('zip', () => {
      it('accepts 12345 and 12345-6789', () => {
        assert.equal(storedAs('zip', '02134'), '02134');
        assert.equal(storedAs('zip', '94102-1234'), '94102-1234');
      });

      it('refuses other shapes', () => {
        for (const zip of [
          '9410',
          '941021',
          '94102-123',
          '94102 1234',
          '941021234',
          'ABCDE',
          94102,
        ]) {
          assertInvalidField('zip', zip);
        }
      });
    });

    describe('doNotCall and isTest', () => {
      it('accepts booleans', () => {
        const request = accepted(
          parse(anUpdateRequest().withData({ doNotCall: true, isTest: false })),
        );
        assert.equal(request.patch.doNotCall, true);
        assert.equal(request.patch.isTest, false);
      });

      it('refuses strings and numbers that look like booleans', () => {
        for (const value of ['true', 'yes', 1, 0]) {
          assertInvalidField('doNotCall', value);
          assertInvalidField('isTest', value);
        }
      });
    });

    describe('metadata', () => {
      it('passes a JSON object through as a merge patch, null members included', () => {
        const metadata = {
          employer: { name: 'Globex', phone: null },
          legacy: null,
          tags: ['a', 1, true],
        };
        assert.deepEqual(
          accepted(parse(anUpdateRequest().withMetadata(metadata))).metadataPatch,
          metadata,
        );
      });

      it('clears all metadata when metadata is null', () => {
        const request = accepted(parse(anUpdateRequest().withMetadata(null)));
        assert.equal(request.metadataPatch, null);
      });

      it('leaves metadata unchanged when it is absent', () => {
        assert.equal('metadataPatch' in accepted(parse(anUpdateRequest())), false);
      });

      it('refuses metadata that is not an object', () => {
        for (const value of [[1], 'text', 3, true]) assertInvalidField('metadata', value);
      });

      it('allows 16 KiB serialised and refuses more', () => {
        const overhead = JSON.stringify({ k: '' }).length;
        const atLimit = { k: 'x'.repeat(LIMITS.metadataBytes - overhead) };
        assert.deepEqual(
          accepted(parse(anUpdateRequest().withMetadata(atLimit))).metadataPatch,
          atLimit,
        );
        const failure = assertInvalidField('metadata', {
          k: 'x'.repeat(LIMITS.metadataBytes - overhead + 1),
        });
        assert.match(failure.message, /16384 bytes/);
      });

      it('measures the size in UTF-8 bytes', () => {
        const overhead = JSON.stringify({ k: '' }).length;
        assertInvalidField('metadata', {
          k: 'é'.repeat((LIMITS.metadataBytes - overhead) / 2 + 1),
        });
      });

      it('refuses nesting deeper than 32 levels', () => {
        let deep: unknown = 'leaf';
        for (let level = 0; level < 32; level++) deep = { n: deep };
        accepted(parse(anUpdateRequest().withMetadata(deep)));
        assertInvalidField('metadata', { n: deep });
      });

      it('refuses what jsonb cannot store: NUL characters and unpaired surrogates, in keys or values', () => {
        for (const value of [
          { a: 'x\u0000y' },
          { 'a\u0000': 1 },
          { a: '\ud800' },
          { a: [{ b: '\udfff' }] },
        ]) {
          assertInvalidField('metadata', value);
        }
      });

      it('refuses numbers JSON.parse turned into Infinity', () => {
        assertInvalidField('metadata', JSON.parse('{"big":1e400}'));
      });
    });

    describe('loanIds', () => {
      it('accepts distinct positive integers', () => {
        assert.deepEqual(
          accepted(parse(anUpdateRequest().withField('loanIds', [123, 456, 789]))).loanIds,
          [123, 456, 789],
        );
        assert.deepEqual(accepted(parse(anUpdateRequest().withField('loanIds', []))).loanIds, []);
      });

      it('accepts 1000 ids and refuses 1001', () => {
        const ids = Array.from({ length: 1000 }, (_, index) => index + 1);
        assert.equal(
          accepted(parse(anUpdateRequest().withField('loanIds', ids))).loanIds?.length,
          1000,
        );
        assertInvalidField('loanIds', [...ids, 1001]);
      });

      it('refuses duplicates, zero, negatives, fractions, unsafe integers and strings', () => {
        for (const ids of [[1, 1], [0], [-1], [1.5], [2 ** 53], ['1'], 7, [null]])
          assertInvalidField('loanIds', ids);
      });

      it('treats null as absent: all loans are imported', () => {
        assert.equal(
          'loanIds' in accepted(parse(anUpdateRequest().withField('loanIds', null))),
          false,
        );
      });
    });

    describe('enrich and loanReferenceId', () => {
      it('defaults enrich to false', () => {
        assert.equal(accepted(parse(anUpdateRequest())).enrich, false);
        assert.equal(accepted(parse(anUpdateRequest().withField('enrich', null))).enrich, false);
        assert.equal(accepted(parse(anUpdateRequest().withField('enrich', true))).enrich, true);
        assertInvalidField('enrich', 'true');
      });

      it('keeps a loanReferenceId of 1..128 characters', () => {
        assert.equal(
          accepted(parse(anUpdateRequest().withField('loanReferenceId', 'LN-42'))).loanReferenceId,
          'LN-42',
        );
        assert.equal(
          'loanReferenceId' in
            accepted(parse(anUpdateRequest().withField('loanReferenceId', null))),
          false,
        );
        for (const value of ['', 'x'.repeat(129), 42]) assertInvalidField('loanReferenceId', value);
      });
    });
  });

  describe('the first failing rule decides the code', () => {
    it('reports an envelope problem before any data problem', () => {
      const failure = refused(
        parse(anUpdateRequest().withTenant('a:b').withData({ zip: 'x', typo: 1 })),
      );
      assert.equal(failure.code, ERROR_CODES.envelopeInvalid);
    });

    it('reports type and version before the other envelope fields', () => {
      const failure = refused(parse(anUpdateRequest().withVersion(2).withEventId('nope')));
      assert.equal(failure.path, 'version');
    });

    it('reports an unknown data field before an invalid one', () => {
      const failure = refused(parse(anUpdateRequest().withData({ zip: 'x', typo: 1 })));
      assert.equal(failure.code, ERROR_CODES.dataUnknownField);
    });

    it('reports invalid data fields in the order of SPEC §3', () => {
      const failure = refused(
        parse(anUpdateRequest().withData({ zip: 'x', email: 'x', loanIds: 'x' })),
      );
      assert.equal(failure.path, 'data.email');
    });
  });

  describe('messages are PII-free', () => {
    const marker = fc.stringMatching(/^[A-Za-z0-9]{6,20}$/);

    function assertMessageOmits(failure: ValidationFailure, value: string) {
      assert.equal(failure.message.includes(value), false, `${failure.message} echoes ${value}`);
    }

    it('never echoes an invalid field value (property)', () => {
      const invalidValues: Record<string, (secret: string) => unknown> = {
        firstName: (secret) => secret.repeat(Math.ceil(101 / secret.length)),
        lastName: (secret) => `${secret}\u0000`,
        email: (secret) => `${secret}@`,
        birthday: (secret) => `19${secret}`,
        ssnLast4: (secret) => `x${secret}`,
        timezone: (secret) => `+${secret}`,
        phone: (secret) => `x${secret}`,
        address1: (secret) => `${secret}\n${secret}`,
        state: (secret) => `${secret}X`,
        zip: (secret) => `Z${secret}`,
        loanReferenceId: (secret) => ` ${secret}`,
        metadata: (secret) => ({ [secret]: 'x'.repeat(LIMITS.metadataBytes) }),
      };
      fc.assert(
        fc.property(fc.constantFrom(...Object.keys(invalidValues)), marker, (field, secret) => {
          const value = invalidValues[field]?.(secret);
          const failure = refused(parse(anUpdateRequest().withField(field, value)));
          assert.equal(failure.path, `data.${field}`);
          assertMessageOmits(failure, secret);
        }),
      );
    });

    it('never echoes an invalid envelope value (property)', () => {
      const invalidValues: Record<string, (secret: string) => unknown> = {
        eventId: (secret) => `${secret}-uuid`,
        occurredAt: (secret) => `2025-${secret}`,
        tenantId: (secret) => `${secret}:x`,
        externalId: (secret) => `${secret} x`,
        source: (secret) => ` ${secret}`,
        type: (secret) => secret,
      };
      fc.assert(
        fc.property(fc.constantFrom(...Object.keys(invalidValues)), marker, (field, secret) => {
          const failure = refused(
            parse(anUpdateRequest().withEnvelopeField(field, invalidValues[field]?.(secret))),
          );
          assertMessageOmits(failure, secret);
        }),
      );
    });

    it('names an unknown field but never echoes its value (property)', () => {
      fc.assert(
        fc.property(marker, (secret) => {
          const failure = refused(parse(anUpdateRequest().withData({ extraField: secret })));
          assert.match(failure.message, /extraField/);
          assertMessageOmits(failure, secret);
        }),
      );
    });
  });
});

describe('decodeJsonMessage', () => {
  const bytes = (text: string) => Buffer.from(text, 'utf8');

  it('decodes a UTF-8 JSON message value', () => {
    const value = anUpdateRequest().build();
    assert.deepEqual(decodeJsonMessage(bytes(JSON.stringify(value)), DEFAULT_MAX_MESSAGE_BYTES), {
      ok: true,
      value,
    });
  });

  it('defaults the maximum size to 64 KiB', () => {
    assert.equal(DEFAULT_MAX_MESSAGE_BYTES, 65_536);
    const padded = bytes(`{"a":"${'x'.repeat(65_536 - 8)}"}`);
    assert.equal(padded.length, 65_536);
    assert.equal(decodeJsonMessage(padded).ok, true);
  });

  it('refuses a value over the maximum before parsing it', () => {
    const result = decodeJsonMessage(bytes('{ not json at all'), 10);
    assert.equal(result.ok, false);
    assert.equal(!result.ok && result.failure.code, ERROR_CODES.payloadTooLarge);
  });

  it('treats a missing or empty value as malformed', () => {
    for (const value of [null, undefined, Buffer.alloc(0)]) {
      const result = decodeJsonMessage(value, DEFAULT_MAX_MESSAGE_BYTES);
      assert.equal(!result.ok && result.failure.code, ERROR_CODES.decodeMalformed);
    }
  });

  it('refuses bytes that are not UTF-8 rather than decoding them lossily', () => {
    const result = decodeJsonMessage(Buffer.from([0x7b, 0x22, 0xc3, 0x28, 0x22, 0x7d]), 100);
    assert.equal(!result.ok && result.failure.code, ERROR_CODES.decodeMalformed);
    assert.match(!result.ok ? result.failure.message : '', /UTF-8/);
  });

  it('refuses text that is not JSON without quoting it', () => {
    const result = decodeJsonMessage(bytes('{"firstName": Ann Secret}'), 100);
    assert.equal(!result.ok && result.failure.code, ERROR_CODES.decodeMalformed);
    assert.equal(!result.ok && result.failure.message.includes('Secret'), false);
  });

  it('leaves the not-an-object check to the parser', () => {
    const decoded = decodeJsonMessage(bytes('[1,2]'), 100);
    assert.deepEqual(decoded, { ok: true, value: [1, 2] });
    assert.equal(refused(parseCustomerUpdateRequested([1, 2])).code, ERROR_CODES.decodeNotAnObject);
  });
});

describe('error codes', () => {
  it('are distinct, and recognisable from a DLQ header', () => {
    assert.equal(new Set(ALL_ERROR_CODES).size, ALL_ERROR_CODES.length);
    assert.equal(isErrorCode('data.unknown_field'), true);
    assert.equal(isErrorCode('data.unknown'), false);
  });
});
