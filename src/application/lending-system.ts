import { ENRICHMENT_FAILURE_CODES, type EnrichmentFailureCode } from '../contracts/error-codes.ts';
import type { LendingCustomer, LendingLoan } from '../contracts/lending-system.ts';
import { CustomerSyncError } from '../errors.ts';

export type { LendingCustomer, LendingLoan };

/** Where a tenant's lending system is: its base URL, whose data to ask for, and the credential. */
export interface LendingSystemTarget {
  baseUrl: string;
  tenantId: string;
  /** the bearer token for this lending system, when it needs one; never logged */
  token?: string;
}

/**
 * Which lending system a tenant's enrichment asks, with which credential (SPEC §6): the tenant's
 * own URL or LENDING_API_URL. Throws a LendingSystemError (`lending.not_configured`) when there
 * is none, or no credential that may be sent there.
 */
export interface LendingTargets {
  targetFor(tenantId: string, tenantLendingApiUrl: string | undefined): LendingSystemTarget;
}

/** How to find the customer: by the tenant's externalId, or by a loan reference (SPEC §3). */
export type CustomerLookup =
  | { by: 'externalId'; externalId: string }
  | { by: 'loanReference'; loanReferenceId: string };

/** The tenant's lending system, as enrichment needs it (SPEC §6). */
export interface LendingSystem {
  /** the customer, or undefined when the lending system has none (404: no data) */
  findCustomer(
    target: LendingSystemTarget,
    lookup: CustomerLookup,
    signal?: AbortSignal,
  ): Promise<LendingCustomer | undefined>;
  /** the customer's loans; none when the lending system knows no loans for them */
  listLoans(
    target: LendingSystemTarget,
    externalId: string,
    signal?: AbortSignal,
  ): Promise<LendingLoan[]>;
}

/** What the lending system (or the lack of one) did wrong; `canRetry` decides retry vs give up. */
export class LendingSystemError extends CustomerSyncError {
  override readonly code: EnrichmentFailureCode;
  /** 429's Retry-After, in milliseconds */
  readonly retryAfterMs: number | undefined;

  constructor(
    code: EnrichmentFailureCode,
    message: string,
    options: { canRetry: boolean; cause?: unknown; retryAfterMs?: number },
  ) {
    super(code, message, options);
    this.name = 'LendingSystemError';
    this.code = code;
    this.retryAfterMs = options.retryAfterMs;
  }
}

/** Whether a failure says the lending system is unwell (what its circuit breaker counts). */
export function isAvailabilityFailure(error: unknown): boolean {
  return (
    error instanceof LendingSystemError &&
    (error.code === ENRICHMENT_FAILURE_CODES.timeout ||
      error.code === ENRICHMENT_FAILURE_CODES.unavailable)
  );
}
