import assert from 'node:assert/strict';
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
