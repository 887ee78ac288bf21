import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type CustomerUpdateRequest,
  parseCustomerUpdateRequested,
} from '../../src/contracts/customer-update-requested.ts';
import {
  type EnrichmentRequest,
  enrichmentRequestOf,
  isSelected,
  mergeEnrichmentRequests,
  mergeEnrichmentRequestsPerCustomer,
  mergeLoanSelections,
} from '../../src/domain/enrichment-request.ts';
import { anUpdateRequest } from '../support/update-request-builder.ts';

function request(data: Record<string, unknown>, externalId = 'c-1'): CustomerUpdateRequest {
  const result = parseCustomerUpdateRequested(
    anUpdateRequest().withExternalId(externalId).withData(data).build(),
  );
  assert.ok(result.ok, JSON.stringify(result));
  return result.request;
}

const base: EnrichmentRequest = {
  tenantId: 'tenant-a',
  externalId: 'c-1',
  fillFields: false,
  loans: [3],
  causationId: 'first',
};

describe('enrichment requests (SPEC §3 enrich, loanIds, loanReferenceId)', () => {
  it('asks for nothing unless the request says enrich or names loans', () => {
    assert.equal(enrichmentRequestOf(request({ firstName: 'Ann' })), undefined);
    assert.equal(enrichmentRequestOf(request({ enrich: false })), undefined);
  });

  it('enrich: fill the fields and import every loan', () => {
    const asked = enrichmentRequestOf(request({ enrich: true }));
    assert.equal(asked?.fillFields, true);
    assert.equal(asked?.loans, 'all');
  });

  it('loanIds alone: import only those loans, fill nothing', () => {
    const asked = enrichmentRequestOf(request({ loanIds: [7, 5] }));
    assert.equal(asked?.fillFields, false);
    assert.deepEqual(asked?.loans, [7, 5]);
  });

  it('keeps the loan reference to look the customer up by', () => {
    const asked = enrichmentRequestOf(request({ enrich: true, loanReferenceId: 'REF-1' }));
    assert.equal(asked?.loanReferenceId, 'REF-1');
  });

  it('merges loan selections: all wins, lists are unioned and sorted', () => {
    assert.equal(mergeLoanSelections('all', [1]), 'all');
    assert.equal(mergeLoanSelections([1], 'all'), 'all');
    assert.deepEqual(mergeLoanSelections([5, 1], [3, 5]), [1, 3, 5]);
    assert.ok(isSelected('all', 9));
    assert.ok(isSelected([9], 9));
    assert.ok(!isSelected([8], 9));
  });

  it('folds a later request in: fill if either asks, later reference and cause win', () => {
    const merged = mergeEnrichmentRequests(
      { ...base, loanReferenceId: 'old' },
      { ...base, fillFields: true, loans: [4], causationId: 'second' },
    );
    assert.deepEqual(merged, {
      tenantId: 'tenant-a',
      externalId: 'c-1',
      fillFields: true,
      loans: [3, 4],
      loanReferenceId: 'old',
      causationId: 'second',
    });
    assert.equal(
      mergeEnrichmentRequests(base, { ...base, loanReferenceId: 'new' }).loanReferenceId,
      'new',
    );
  });

  it('leaves one request per customer, in order of first appearance', () => {
    const merged = mergeEnrichmentRequestsPerCustomer([
      base,
      { ...base, externalId: 'c-2', causationId: 'other' },
      { ...base, loans: 'all', causationId: 'third' },
    ]);
    assert.deepEqual(
      merged.map((r) => [r.externalId, r.loans, r.causationId]),
      [
        ['c-1', 'all', 'third'],
        ['c-2', [3], 'other'],
      ],
    );
  });
});
