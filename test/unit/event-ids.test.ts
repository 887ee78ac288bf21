import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  CUSTOMER_SYNC_UUID_NAMESPACE,
  customerUpdatedEventId,
  legacyUpdateEventId,
  uuidV5,
} from '../../src/domain/event-ids.ts';

const DNS_NAMESPACE = '6ba7b810-9dad-11d1-80b4-00c04fd430c8';
const URL_NAMESPACE = '6ba7b811-9dad-11d1-80b4-00c04fd430c8';
const UUID_V5 = /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('uuidV5 (RFC 9562 §5.5)', () => {
  it('matches the RFC 9562 example: DNS namespace, www.example.com', () => {
    // RFC 9562 Appendix A.4; also what Python's uuid.uuid5 gives.
    assert.equal(uuidV5(DNS_NAMESPACE, 'www.example.com'), '2ed6657d-e927-568b-95e1-2665a8aea6a2');
  });

  it('matches an independent implementation for the URL namespace', () => {
    // python3 -c "import uuid; print(uuid.uuid5(uuid.NAMESPACE_URL, 'http://www.example.com/'))"
    assert.equal(
      uuidV5(URL_NAMESPACE, 'http://www.example.com/'),
      'fcde3c85-2270-590f-9e7c-ee003d65e0e2',
    );
  });

  it('sets the version and variant bits (property)', () => {
    fc.assert(
      fc.property(fc.uuid(), fc.string({ unit: 'binary' }), (namespace, name) => {
        assert.match(uuidV5(namespace, name), UUID_V5);
      }),
    );
  });

  it('encodes a lone surrogate in the name as U+FFFD, as the hand-written version did', () => {
    assert.equal(uuidV5(DNS_NAMESPACE, 'a\ud800b'), uuidV5(DNS_NAMESPACE, 'a\ufffdb'));
  });

  it('refuses a namespace that is not a UUID', () => {
    assert.throws(() => uuidV5('not-a-uuid', 'x'), TypeError);
  });
});

describe('customerUpdatedEventId (SPEC §5)', () => {
  const causation = '7c9e6679-7425-40de-944b-e07fc1f90ae7';
  const cause = (reason: string, more: { tenantId?: string; discriminator?: string } = {}) => ({
    tenantId: more.tenantId ?? 'acme',
    causationId: causation,
    reason,
    ...(more.discriminator !== undefined ? { discriminator: more.discriminator } : {}),
  });

  it('is pinned: a change of namespace or name format would break recognising re-sends', () => {
    // python3 -c "import uuid; print(uuid.uuid5(uuid.UUID('4cb50500-88e9-43b5-b553-e6d2be61df42'),
    //   'acme|7c9e6679-7425-40de-944b-e07fc1f90ae7|update'))"
    assert.equal(CUSTOMER_SYNC_UUID_NAMESPACE, '4cb50500-88e9-43b5-b553-e6d2be61df42');
    assert.equal(customerUpdatedEventId(cause('update')), 'd4591848-79a1-5241-b9c2-5c4ef75003e9');
  });

  it('gives two tenants that send the same eventId two ids (SPEC §4.7)', () => {
    assert.notEqual(
      customerUpdatedEventId(cause('update', { tenantId: 'tenant-a' })),
      customerUpdatedEventId(cause('update', { tenantId: 'tenant-b' })),
    );
  });

  it('gives the same id for the same cause, however the causation id is spelled', () => {
    assert.equal(
      customerUpdatedEventId({ ...cause('update'), causationId: causation.toUpperCase() }),
      customerUpdatedEventId(cause('update')),
    );
  });

  it('gives different ids for different reasons and discriminators', () => {
    const ids = new Set([
      customerUpdatedEventId(cause('update')),
      customerUpdatedEventId(cause('enrichment')),
      customerUpdatedEventId(cause('republish', { discriminator: 'CUST-1' })),
      customerUpdatedEventId(cause('republish', { discriminator: 'CUST-2' })),
      customerUpdatedEventId(cause('republish', { discriminator: '' })),
      customerUpdatedEventId(cause('republish')),
    ]);
    assert.equal(ids.size, 6);
  });

  it('is a version 5 UUID', () => {
    assert.match(customerUpdatedEventId(cause('enrichment')), UUID_V5);
  });
});

describe('legacyUpdateEventId (ids announced before the tenant was part of them)', () => {
  it('is the id release 0.1.0 announced for an update', () => {
    // python3 -c "import uuid; print(uuid.uuid5(uuid.UUID('4cb50500-88e9-43b5-b553-e6d2be61df42'),
    //   '7c9e6679-7425-40de-944b-e07fc1f90ae7|update'))"
    assert.equal(
      legacyUpdateEventId('7C9E6679-7425-40DE-944B-E07FC1F90AE7'),
      '3bf3c257-04fd-52f1-bb91-e04fe88d0013',
    );
  });
});

/**
 * The UUIDv5 this service derived its ids with before it used the `uuid` package: a deliberate
 * copy, kept as the reference that shows the library derives every id exactly as before.
 */
function handWrittenUuidV5(namespace: string, name: string): string {
  const namespaceBytes = Buffer.from(namespace.replaceAll('-', ''), 'hex');
  const bytes = createHash('sha1').update(namespaceBytes).update(name, 'utf8').digest();
  bytes[6] = ((bytes[6] as number) & 0x0f) | 0x50;
  bytes[8] = ((bytes[8] as number) & 0x3f) | 0x80;
  const hex = bytes.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

describe('uuidV5 on the uuid package (SPEC §4.6: re-sends keep their id)', () => {
  const named = (causationId: string, reason: string, discriminator?: string) =>
    uuidV5(
      CUSTOMER_SYNC_UUID_NAMESPACE,
      [
        causationId.toLowerCase(),
        reason,
        ...(discriminator === undefined ? [] : [discriminator]),
      ].join('|'),
    );

  const causation = '7c9e6679-7425-40de-944b-e07fc1f90ae7';

  it('derives the ids an independent implementation derives, for every reason', () => {
    // python3: uuid.uuid5(uuid.UUID(CUSTOMER_SYNC_UUID_NAMESPACE), '<causation>|<reason>[|<d>]')
    const expected: Array<[string, string | undefined, string]> = [
      ['update', undefined, '3bf3c257-04fd-52f1-bb91-e04fe88d0013'],
      ['enrichment', undefined, '7161a2f0-787f-5b3c-a2c9-7f75bdd84cd7'],
      ['republish', 'acme:CUST-1', '574d8e3c-472b-53e7-9f2f-5e8785910045'],
      ['republish', '', 'ed05e6b5-610d-5957-852c-81d118a8c888'],
      ['republish', 'tenant-ü:客户-1', 'ae25cdaf-14fa-5c03-9996-e6a109300f86'],
      ['republish', 'acme:CUST-1:😀', 'ab2bf6c9-0582-58f1-87c1-14ac82c645e8'],
      // a lone surrogate is hashed as U+FFFD: uuid.uuid5(ns, '<causation>|republish|\ufffd')
      ['republish', '\ud800', 'f062e6b1-179a-5e56-93fe-2aec7a51cfe6'],
    ];
    for (const [reason, discriminator, id] of expected) {
      assert.equal(named(causation, reason, discriminator), id, reason);
    }
  });

  it('derives every id exactly as the hand-written UUIDv5 did (property)', () => {
    fc.assert(
      fc.property(
        fc.uuid(),
        fc.constantFrom('update', 'enrichment', 'republish'),
        fc.option(fc.string({ unit: 'binary', maxLength: 60 }), { nil: undefined }),
        (causationId, reason, discriminator) => {
          const name = [causationId.toLowerCase(), reason];
          if (discriminator !== undefined) name.push(discriminator);
          assert.equal(
            named(causationId, reason, discriminator),
            handWrittenUuidV5(CUSTOMER_SYNC_UUID_NAMESPACE, name.join('|')),
          );
        },
      ),
      { numRuns: 2_000 },
    );
  });
});
