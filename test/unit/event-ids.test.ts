import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  CUSTOMER_SYNC_UUID_NAMESPACE,
  customerUpdatedEventId,
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

  it('is pinned: a change of namespace or name format would break recognising re-sends', () => {
    // python3 -c "import uuid; print(uuid.uuid5(uuid.UUID('4cb50500-88e9-43b5-b553-e6d2be61df42'),
    //   '7c9e6679-7425-40de-944b-e07fc1f90ae7|update'))"
    assert.equal(CUSTOMER_SYNC_UUID_NAMESPACE, '4cb50500-88e9-43b5-b553-e6d2be61df42');
    assert.equal(
      customerUpdatedEventId(causation, 'update'),
      '3bf3c257-04fd-52f1-bb91-e04fe88d0013',
    );
  });

  it('gives the same id for the same cause, however the causation id is spelled', () => {
    assert.equal(
      customerUpdatedEventId(causation.toUpperCase(), 'update'),
      customerUpdatedEventId(causation, 'update'),
    );
  });

  it('gives different ids for different reasons and discriminators', () => {
    const ids = new Set([
      customerUpdatedEventId(causation, 'update'),
      customerUpdatedEventId(causation, 'enrichment'),
      customerUpdatedEventId(causation, 'republish', 'acme:CUST-1'),
      customerUpdatedEventId(causation, 'republish', 'acme:CUST-2'),
      customerUpdatedEventId(causation, 'republish', ''),
      customerUpdatedEventId(causation, 'republish'),
    ]);
    assert.equal(ids.size, 6);
  });

  it('is a version 5 UUID', () => {
    assert.match(customerUpdatedEventId(causation, 'enrichment'), UUID_V5);
  });
});
