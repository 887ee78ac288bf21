import {
  type CustomerLookup,
  type LendingSystem,
  LendingSystemError,
  type LendingSystemTarget,
} from '../application/lending-system.ts';
import { ENRICHMENT_FAILURE_CODES } from '../contracts/error-codes.ts';
import {
  LENDING_PATHS,
  parseLendingCustomer,
  parseLendingLoans,
  UnusablePathSegmentError,
} from '../contracts/lending-system.ts';
import { parseRetryAfterMs } from './retry-after.ts';

export interface LendingSystemClientOptions {
  /** per HTTP call, body included (LENDING_API_TIMEOUT_MS) */
  timeoutMs: number;
  /** each call's outcome and duration, for metrics */
  onCall?(call: { operation: LendingOperation; outcome: string; seconds: number }): void;
  now?: () => number;
}

export type LendingOperation = 'customer' | 'customer_by_loan_reference' | 'loans';

/** Answers larger than this are refused rather than parsed. */
const MAX_ANSWER_BYTES = 8 * 1024 * 1024;

/**
 * The lending-system contract of schemas/lending-system.openapi.json over node's fetch: every
 * call has a timeout, every answer is validated, and every failure is a LendingSystemError that
 * says whether a retry can help. 404 means "no data". Error messages name status codes and
 * rules, never the URL (it holds the customer's externalId) or anything from the body.
 */
export function createLendingSystemClient(options: LendingSystemClientOptions): LendingSystem {
  const now = options.now ?? Date.now;

  async function get(
    target: LendingSystemTarget,
    operation: LendingOperation,
    path: string,
    signal: AbortSignal | undefined,
  ): Promise<unknown | undefined> {
    const url = new URL(path, target.baseUrl.endsWith('/') ? target.baseUrl : `${target.baseUrl}/`);
    const headers: Record<string, string> = { accept: 'application/json' };
    if (target.token !== undefined) headers.authorization = `Bearer ${target.token}`;
    const timeout = AbortSignal.timeout(options.timeoutMs);
    const combined = signal ? AbortSignal.any([timeout, signal]) : timeout;
    const started = now();
    let outcome = 'error';
    try {
      const response = await fetch(url, { headers, signal: combined, redirect: 'error' });
      outcome = String(response.status);
      if (response.status === 404) {
        await response.body?.cancel();
        return undefined;
      }
      if (response.status === 429) {
        await response.body?.cancel();
        const retryAfterMs = parseRetryAfterMs(response.headers.get('retry-after'), now());
        throw new LendingSystemError(
          ENRICHMENT_FAILURE_CODES.rateLimited,
          'the lending system asked us to slow down (429)',
          { canRetry: true, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) },
        );
      }
      if (response.status >= 500) {
        await response.body?.cancel();
        throw new LendingSystemError(
          ENRICHMENT_FAILURE_CODES.unavailable,
          `the lending system answered ${response.status}`,
          { canRetry: true },
        );
      }
      if (response.status === 401 || response.status === 403) {
        await response.body?.cancel();
        throw new LendingSystemError(
          ENRICHMENT_FAILURE_CODES.unauthorized,
          `the lending system refused our credentials (${response.status})`,
          { canRetry: false },
        );
      }
      if (response.status !== 200) {
        await response.body?.cancel();
        throw new LendingSystemError(
          ENRICHMENT_FAILURE_CODES.rejected,
          `the lending system answered ${response.status}`,
          { canRetry: false },
        );
      }
      const text = await readCapped(response, MAX_ANSWER_BYTES);
      try {
        return JSON.parse(text) as unknown;
      } catch {
        throw invalidAnswer('the answer is not JSON');
      }
    } catch (error) {
      if (error instanceof LendingSystemError) throw error;
      if (signal?.aborted) {
        outcome = 'aborted';
        throw new LendingSystemError(ENRICHMENT_FAILURE_CODES.aborted, 'the call was cancelled', {
          canRetry: true,
        });
      }
      if (timeout.aborted) {
        outcome = 'timeout';
        throw new LendingSystemError(
          ENRICHMENT_FAILURE_CODES.timeout,
          `no answer from the lending system within ${options.timeoutMs} ms`,
          { canRetry: true },
        );
      }
      outcome = 'connection_failed';
      // The cause is kept for its code (ECONNREFUSED, …); its message may name the host only.
      throw new LendingSystemError(
        ENRICHMENT_FAILURE_CODES.unavailable,
        'the lending system could not be reached',
        { canRetry: true, cause: error },
      );
    } finally {
      options.onCall?.({ operation, outcome, seconds: (now() - started) / 1000 });
    }
  }

  return {
    async findCustomer(target, lookup: CustomerLookup, signal) {
      const [operation, path]: [LendingOperation, string] =
        lookup.by === 'externalId'
          ? [
              'customer',
              lendingPath(() => LENDING_PATHS.customer(target.tenantId, lookup.externalId)),
            ]
          : [
              'customer_by_loan_reference',
              lendingPath(() =>
                LENDING_PATHS.customerByLoanReference(target.tenantId, lookup.loanReferenceId),
              ),
            ];
      const body = await get(target, operation, path, signal);
      if (body === undefined) return undefined;
      const customer = parseLendingCustomer(body);
      if (!customer) throw invalidAnswer('the customer does not follow the contract');
      return customer;
    },

    async listLoans(target, externalId, signal) {
      const body = await get(
        target,
        'loans',
        lendingPath(() => LENDING_PATHS.loans(target.tenantId, externalId)),
        signal,
      );
      if (body === undefined) return [];
      const loans = parseLendingLoans(body);
      if (!loans) throw invalidAnswer('the loans do not follow the contract');
      return loans;
    },
  };
}

/**
 * The body as text, refused as soon as it passes `limit` bytes: a lending system that sends
 * gigabytes costs us at most the limit, never the whole answer in memory.
 */
async function readCapped(response: Response, limit: number): Promise<string> {
  const declared = Number(response.headers.get('content-length') ?? Number.NaN);
  if (declared > limit) {
    await response.body?.cancel();
    throw invalidAnswer('the answer is larger than 8 MiB');
  }
  if (response.body === null) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = response.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      throw invalidAnswer('the answer is larger than 8 MiB');
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks, size).toString('utf8');
}

/** A contract path, or a rejection before any request when an id would rewrite the path. */
function lendingPath(build: () => string): string {
  try {
    return build();
  } catch (error) {
    if (error instanceof UnusablePathSegmentError) {
      throw new LendingSystemError(ENRICHMENT_FAILURE_CODES.rejected, error.message, {
        canRetry: false,
      });
    }
    throw error;
  }
}

function invalidAnswer(message: string): LendingSystemError {
  return new LendingSystemError(ENRICHMENT_FAILURE_CODES.invalidResponse, message, {
    canRetry: false,
  });
}
