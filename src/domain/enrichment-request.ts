import { type CustomerKey, customerKeyId } from './customer-key.ts';

/** Which of the customer's loans to import: every one, or only the listed ids (SPEC §3 loanIds). */
export type LoanSelection = 'all' | readonly number[];

/**
 * What a customer's pending enrichment job must do (SPEC §6). Several requests for one customer
 * fold into one job, so the lending system is asked once however many requests asked.
 */
export interface EnrichmentRequest extends CustomerKey {
  /** SPEC §3 enrich: fill the customer's empty fields; false when a request only named loanIds */
  fillFields: boolean;
  loans: LoanSelection;
  /** SPEC §3 loanReferenceId: look the customer up by this loan reference, not by externalId */
  loanReferenceId?: string;
  /** the eventId of the latest request folded in; the enrichment announcement's causationId */
  causationId: string;
}

/** What of an update request decides its enrichment (SPEC §3: enrich, loanIds, loanReferenceId). */
export interface EnrichmentAsk extends CustomerKey {
  eventId: string;
  enrich: boolean;
  loanIds?: readonly number[];
  loanReferenceId?: string;
}

/** The enrichment a request asks for, or undefined when it asks for none (SPEC §3, §6). */
export function enrichmentRequestOf(request: EnrichmentAsk): EnrichmentRequest | undefined {
  if (!request.enrich && request.loanIds === undefined) return undefined;
  return {
    tenantId: request.tenantId,
    externalId: request.externalId,
    fillFields: request.enrich,
    loans: request.loanIds ?? 'all',
    ...(request.loanReferenceId !== undefined ? { loanReferenceId: request.loanReferenceId } : {}),
    causationId: request.eventId,
  };
}

/** Either asks for every loan: every loan; otherwise the union of the two lists, sorted. */
export function mergeLoanSelections(a: LoanSelection, b: LoanSelection): LoanSelection {
  if (a === 'all' || b === 'all') return 'all';
  return [...new Set([...a, ...b])].sort((x, y) => x - y);
}

/**
 * Folds a later request of the same customer into an earlier one: fields are filled if either
 * asked, loans are the union (all if either asked for all), the later loan reference replaces
 * an earlier one, and the later request becomes the cause. The persistence layer applies the
 * same rule in SQL when a request merges into a job already stored.
 */
export function mergeEnrichmentRequests(
  earlier: EnrichmentRequest,
  later: EnrichmentRequest,
): EnrichmentRequest {
  const loanReferenceId = later.loanReferenceId ?? earlier.loanReferenceId;
  return {
    tenantId: earlier.tenantId,
    externalId: earlier.externalId,
    fillFields: earlier.fillFields || later.fillFields,
    loans: mergeLoanSelections(earlier.loans, later.loans),
    ...(loanReferenceId !== undefined ? { loanReferenceId } : {}),
    causationId: later.causationId,
  };
}

/** One request per customer, in order of first appearance, each the fold of that customer's. */
export function mergeEnrichmentRequestsPerCustomer(
  requests: readonly EnrichmentRequest[],
): EnrichmentRequest[] {
  const merged = new Map<string, EnrichmentRequest>();
  for (const request of requests) {
    const id = customerKeyId(request);
    const earlier = merged.get(id);
    merged.set(id, earlier ? mergeEnrichmentRequests(earlier, request) : request);
  }
  return [...merged.values()];
}

/** Whether a loan id is among those a selection imports. */
export function isSelected(selection: LoanSelection, loanId: number): boolean {
  return selection === 'all' || selection.includes(loanId);
}
