/**
 * The core use case: a chunk of update requests applied in one transaction. Where SPEC §4's
 * guarantees are kept: dedupe (an eventId already in processed_events, or twice in the chunk,
 * changes nothing: exactly-once effect, §4.3), per-field last-writer-wins (§4.2), tenant
 * rules (§3), and the outbox row written with the change it announces (§4.6). The store port
 * (UpdateBatchStore) is implemented by persistence/update-batch-store.ts.
 */
import type {
  CustomerUpdateRequest,
  ValidationFailure,
} from '../contracts/customer-update-requested.ts';
import type { CustomerUpdated } from '../contracts/customer-updated.ts';
import {
  customerDocumentBytes,
  customerUpdatedEvent,
} from '../contracts/customer-updated-event.ts';
import { ERROR_CODES } from '../contracts/error-codes.ts';
import { checkTenantRules, type TenantConfiguration } from '../contracts/tenant-rules.ts';
import { type CustomerKey, customerKeyId } from '../domain/customer-key.ts';
import { type ChangedField, emptyCustomerRecord } from '../domain/customer-record.ts';
import { growsPastDocumentLimit, type StoredCustomer } from '../domain/customer-snapshot.ts';
import { type FieldWrite, mergeFieldsLastWriterWins } from '../domain/merge-last-writer-wins.ts';
import { type MetadataTombstones, metadataPatchPaths } from '../domain/metadata-registers.ts';
import { stampOf } from '../domain/stamp.ts';
import { type TenantEvent, tenantEventKey } from '../domain/tenant-event-key.ts';

/**
 * A W3C trace context (traceparent, tracestate) that an announcement continues: stored with
 * its outbox row, published in its headers (README "Tracing"). Opaque to the use case.
 */
export interface TraceContext {
  traceparent: string;
  tracestate?: string;
}

/** What became of one request; logs and metrics read it from here alone. */
export type UpdateOutcome =
  | { kind: 'applied'; changedFields: ChangedField[]; staleFields: ChangedField[] }
  | { kind: 'unchanged' }
  | { kind: 'stale'; staleFields: ChangedField[] }
  | { kind: 'duplicate' }
  | { kind: 'rejected'; failure: ValidationFailure };

export type ProcessedOutcome = 'applied' | 'unchanged' | 'stale';

/** One request as processed_events records it: the idempotency key plus what `explain` shows. */
export interface ProcessedEvent extends CustomerKey {
  eventId: string;
  outcome: ProcessedOutcome;
  /** normalised, as in the request */
  occurredAt: string;
  source: string | undefined;
  /** SPEC §4.3: the fields skipped because they held a newer write */
  staleFields: ChangedField[];
}

/**
 * The database work of one batch, all inside one transaction (SPEC §4.1, §4.2, §4.6). Its
 * statements run in the order they are asked for, each after the one before has taken effect,
 * even when the caller asks for the next before the last has answered.
 */
export interface UpdateBatchTransaction {
  /** serialises every writer of these customers until the transaction ends */
  lockCustomers(keys: CustomerKey[]): Promise<void>;
  findTenants(tenantIds: string[]): Promise<Map<string, TenantConfiguration>>;
  /** which of these events were processed already, as tenantEventKey()s (SPEC §4.2, §4.7) */
  findProcessedEvents(events: TenantEvent[]): Promise<Set<string>>;
  loadCustomers(keys: CustomerKey[]): Promise<Map<string, StoredCustomer>>;
  saveCustomers(customers: StoredCustomer[]): Promise<void>;
  /**
   * records the events by (tenant, eventId); throws a retryable error if another transaction
   * recorded one of them first
   */
  recordProcessedEvents(events: ProcessedEvent[]): Promise<void>;
  /** `traceContexts[i]`, when given, is the trace context event `i` continues */
  appendToOutbox(
    events: CustomerUpdated[],
    traceContexts?: ReadonlyArray<TraceContext | undefined>,
  ): Promise<void>;
  /**
   * the stored metadata tombstones of these paths of these customers, by customerKeyId: kept
   * apart from the customers so that their cost does not grow with their history
   * (domain/metadata-registers.ts)
   */
  findMetadataTombstones(
    paths: Array<CustomerKey & { paths: string[] }>,
  ): Promise<Map<string, MetadataTombstones>>;
  /** stores tombstones apart from the customers; where a path has one, the greater stamp wins */
  saveMetadataTombstones(
    tombstones: Array<CustomerKey & { tombstones: MetadataTombstones }>,
  ): Promise<void>;
  /** enqueues the enrichment jobs these requests ask for, in this transaction (SPEC §6) */
  requestEnrichment?(requests: CustomerUpdateRequest[]): Promise<void>;
}

export interface UpdateBatchStore {
  /**
   * commits when `work` resolves, rolls back when it throws; aborting `signal` cancels the
   * statement in flight, so an abandoned transaction holds no connection or lock
   */
  inTransaction<T>(
    work: (transaction: UpdateBatchTransaction) => Promise<T>,
    signal?: AbortSignal,
  ): Promise<T>;
}

export interface AppliedBatch {
  /** one outcome per request, in the order given */
  outcomes: UpdateOutcome[];
  /** how many customer.updated events the transaction wrote to the outbox */
  announced: number;
}

export interface ApplyUpdateBatchOptions {
  now?: () => Date;
  /**
   * Aborted when the caller gave up on this attempt and retries it: the transaction then rolls
   * back instead of committing (see update-consumer.ts for why a late commit is still safe).
   */
  signal?: AbortSignal;
  /**
   * CUSTOMER_MAX_DOCUMENT_BYTES: a request whose metadata patch would grow the customer's
   * document past it is rejected (`customer.document_too_large`); unlimited if unset.
   */
  maxDocumentBytes?: number;
  /** the trace context of the request with this eventId, when tracing is on */
  traceContextOf?: (eventId: string) => TraceContext | undefined;
}

/**
 * Applies a batch of validated requests in one transaction: drops the ones already processed,
 * checks each against its tenant's configuration, merges the rest field by field as
 * last-writer-wins, stores the customers, records the event ids, and writes one
 * customer.updated to the outbox per request that changed something (SPEC §4.2, §4.3, §4.6).
 * Requests are applied in the order given, which is their order in the partition.
 */
export async function applyUpdateBatch(
  store: UpdateBatchStore,
  requests: readonly CustomerUpdateRequest[],
  {
    now = () => new Date(),
    signal,
    maxDocumentBytes,
    traceContextOf,
  }: ApplyUpdateBatchOptions = {},
): Promise<AppliedBatch> {
  if (requests.length === 0) return { outcomes: [], announced: 0 };
  signal?.throwIfAborted();
  return store.inTransaction(async (transaction) => {
    signal?.throwIfAborted();
    const keys = distinctKeys(requests);
    const tombstonePaths = metadataPathsOf(requests);
    // The locks and the reads are asked for at once: the transaction runs them in that order,
    // so the reads see the customers as the locks hold them, one round trip sooner.
    const [, tenants, processed, stored, tombstones] = await Promise.all([
      transaction.lockCustomers(keys),
      transaction.findTenants([...new Set(requests.map((request) => request.tenantId))]),
      transaction.findProcessedEvents(
        requests.map(({ tenantId, eventId }) => ({ tenantId, eventId })),
      ),
      transaction.loadCustomers(keys),
      tombstonePaths.length > 0
        ? transaction.findMetadataTombstones(tombstonePaths)
        : new Map<string, MetadataTombstones>(),
    ]);

    const appliedAt = now().toISOString();
    const outcomes: UpdateOutcome[] = [];
    const seenInBatch = new Set<string>();
    const touched = new Map<string, StoredCustomer>();
    const recorded: ProcessedEvent[] = [];
    const announcements: CustomerUpdated[] = [];
    const documentBytes = new Map<string, number>();
    const newTombstones = new Map<string, CustomerKey & { tombstones: MetadataTombstones }>();

    for (const request of requests) {
      // SPEC §4.7: the same eventId from another tenant is another event.
      const eventKey = tenantEventKey(request);
      if (processed.has(eventKey) || seenInBatch.has(eventKey)) {
        outcomes.push({ kind: 'duplicate' });
        continue;
      }
      const failure = checkTenantRules(request, tenants.get(request.tenantId));
      if (failure) {
        // Not recorded as processed: once the tenant is fixed, a redrive must apply it.
        outcomes.push({ kind: 'rejected', failure });
        continue;
      }
      const id = customerKeyId(request);
      const before = touched.get(id) ?? stored.get(id) ?? newCustomer(request, appliedAt);
      const known = tombstones.get(id) ?? {};
      const merged = mergeFieldsLastWriterWins(before.record, toFieldWrite(request), known);
      const after: StoredCustomer = {
        ...before,
        record: merged.record,
        updatedAt: merged.changedFields.length > 0 ? appliedAt : before.updatedAt,
      };
      // Only metadata is unbounded: the other fields together are a few KiB by contract.
      if (maxDocumentBytes !== undefined && request.metadataPatch !== undefined) {
        const beforeBytes = documentBytes.get(id) ?? customerDocumentBytes(before);
        const afterBytes = customerDocumentBytes(after);
        if (growsPastDocumentLimit(beforeBytes, afterBytes, maxDocumentBytes)) {
          // Not recorded as processed, like a tenant rule: after a fix, a redrive applies it.
          documentBytes.set(id, beforeBytes);
          outcomes.push({
            kind: 'rejected',
            failure: documentTooLarge(afterBytes, maxDocumentBytes),
          });
          continue;
        }
        documentBytes.set(id, afterBytes);
      }
      seenInBatch.add(eventKey);
      // After the document limit: a rejected request leaves no tombstone behind.
      if (Object.keys(merged.metadataTombstones).length > 0) {
        // Later requests of this customer in the batch see them, and they are stored with it.
        tombstones.set(id, keepNewer(known, merged.metadataTombstones));
        const pending = newTombstones.get(id);
        newTombstones.set(id, {
          tenantId: request.tenantId,
          externalId: request.externalId,
          tombstones: keepNewer(pending?.tombstones ?? {}, merged.metadataTombstones),
        });
      }
      touched.set(id, after);

      const outcome = outcomeOf(merged.changedFields, merged.staleFields);
      outcomes.push(outcome);
      recorded.push({
        tenantId: request.tenantId,
        externalId: request.externalId,
        eventId: request.eventId,
        outcome: outcome.kind,
        occurredAt: request.occurredAt,
        source: request.source,
        staleFields: merged.staleFields,
      });
      if (outcome.kind === 'applied') {
        announcements.push(
          customerUpdatedEvent({
            customer: after,
            causationId: request.eventId,
            reason: 'update',
            changedFields: merged.changedFields,
            occurredAt: appliedAt,
          }),
        );
      }
    }

    // Stamps move even when no value changes; they must be stored for later merges to converge.
    // The writes do not depend on each other: issued together, they share one round trip to
    // the database, and a failure of any of them still rolls back all of them.
    await Promise.all([
      transaction.saveCustomers([...touched.values()]),
      transaction.recordProcessedEvents(recorded),
      transaction.appendToOutbox(
        announcements,
        traceContextOf && announcements.map((event) => traceContextOf(event.causationId)),
      ),
      newTombstones.size > 0
        ? transaction.saveMetadataTombstones([...newTombstones.values()])
        : undefined,
    ]);
    const enrichmentRequests = requests.filter(
      (request, index) =>
        outcomes[index]?.kind !== 'duplicate' &&
        outcomes[index]?.kind !== 'rejected' &&
        (request.enrich || request.loanIds !== undefined),
    );
    if (enrichmentRequests.length > 0) await transaction.requestEnrichment?.(enrichmentRequests);
    // Thrown here, the abandonment rolls the transaction back: returning would commit it.
    signal?.throwIfAborted();
    return { outcomes, announced: announcements.length };
  }, signal);
}

function documentTooLarge(bytes: number, limit: number): ValidationFailure {
  return {
    code: ERROR_CODES.customerDocumentTooLarge,
    message: `applied, the metadata patch would grow the customer's document to ${bytes} bytes, past the limit of ${limit} (CUSTOMER_MAX_DOCUMENT_BYTES)`,
    path: 'data.metadata',
  };
}

function outcomeOf(
  changedFields: ChangedField[],
  staleFields: ChangedField[],
): UpdateOutcome & { kind: ProcessedOutcome } {
  if (changedFields.length > 0) return { kind: 'applied', changedFields, staleFields };
  if (staleFields.length > 0) return { kind: 'stale', staleFields };
  return { kind: 'unchanged' };
}

function toFieldWrite(request: CustomerUpdateRequest): FieldWrite {
  const write: FieldWrite = {
    stamp: stampOf(request.occurredAt, request.eventId),
    patch: request.patch,
  };
  if (request.metadataPatch !== undefined) write.metadataPatch = request.metadataPatch;
  return write;
}

function newCustomer(key: CustomerKey, now: string): StoredCustomer {
  return {
    tenantId: key.tenantId,
    externalId: key.externalId,
    record: emptyCustomerRecord(),
    createdAt: now,
    updatedAt: now,
  };
}

/** Per customer, the metadata paths the requests patch, whose tombstones the merge needs. */
function metadataPathsOf(
  requests: readonly CustomerUpdateRequest[],
): Array<CustomerKey & { paths: string[] }> {
  const byCustomer = new Map<string, CustomerKey & { paths: Set<string> }>();
  for (const { tenantId, externalId, metadataPatch } of requests) {
    if (metadataPatch === undefined || metadataPatch === null) continue;
    const id = customerKeyId({ tenantId, externalId });
    const entry = byCustomer.get(id) ?? { tenantId, externalId, paths: new Set<string>() };
    for (const path of metadataPatchPaths(metadataPatch)) entry.paths.add(path);
    byCustomer.set(id, entry);
  }
  return [...byCustomer.values()]
    .filter((entry) => entry.paths.size > 0)
    .map((entry) => ({ ...entry, paths: [...entry.paths] }));
}

function keepNewer(known: MetadataTombstones, more: MetadataTombstones): MetadataTombstones {
  const kept = { ...known };
  for (const [path, stamp] of Object.entries(more)) {
    const before = kept[path];
    if (before === undefined || stamp > before) kept[path] = stamp;
  }
  return kept;
}

function distinctKeys(requests: readonly CustomerUpdateRequest[]): CustomerKey[] {
  const keys = new Map<string, CustomerKey>();
  for (const { tenantId, externalId } of requests) {
    keys.set(customerKeyId({ tenantId, externalId }), { tenantId, externalId });
  }
  return [...keys.values()];
}
