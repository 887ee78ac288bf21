import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type Announcement,
  type CustomerAuditStore,
  type CustomerDeadLetter,
  type EnrichmentJobRecord,
  type ExplainCustomerPorts,
  explainCustomer,
  type ProcessedEventRecord,
} from '../../src/application/explain-customer.ts';
import {
  letterPositionKey,
  type RedriveRecord,
} from '../../src/application/redrive-dead-letters.ts';
import type { CustomerPatch, JsonObject } from '../../src/domain/customer-fields.ts';
import { type CustomerRecord, emptyCustomerRecord } from '../../src/domain/customer-record.ts';
import type { StoredCustomer } from '../../src/domain/customer-snapshot.ts';
import { fillMissingFields } from '../../src/domain/fill-missing-fields.ts';
import { mergeFieldsLastWriterWins } from '../../src/domain/merge-last-writer-wins.ts';
import type { MetadataTombstones } from '../../src/domain/metadata-registers.ts';
import { stampOf } from '../../src/domain/stamp.ts';
import { CustomerSyncError } from '../../src/errors.ts';

const KEY = { tenantId: 'tenant-a', externalId: 'c-1' };
const id = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
const at = (n: number) => `2026-01-01T00:00:${String(n).padStart(2, '0')}.000Z`;

function write(
  record: CustomerRecord,
  n: number,
  patch: CustomerPatch,
  metadataPatch?: JsonObject | null,
) {
  return mergeFieldsLastWriterWins(record, {
    stamp: stampOf(`2026-01-01T00:00:${String(n).padStart(2, '0')}.000000000Z`, id(n)),
    patch,
    ...(metadataPatch !== undefined ? { metadataPatch } : {}),
  }).record;
}

/** Ann, created by event 1, enriched (job 7 filled lastName), asked not to be called by event 3. */
function customerHistory(): StoredCustomer {
  let record = write(
    emptyCustomerRecord(),
    1,
    { taskType: 'collections', firstName: 'Ann', doNotCall: false, email: 'ann@example.com' },
    { tier: 'gold' },
  );
  record = fillMissingFields(record, { lastName: 'Lee' }).record;
  record = write(record, 3, { doNotCall: true, email: null });
  return { ...KEY, record, createdAt: at(1), updatedAt: at(3) };
}

function processed(n: number, extra: Partial<ProcessedEventRecord> = {}): ProcessedEventRecord {
  return {
    eventId: id(n),
    outcome: 'applied',
    occurredAt: at(n),
    source: 'crm',
    processedAt: `2026-01-01T01:00:${String(n).padStart(2, '0')}.000Z`,
    staleFields: null,
    ...extra,
  };
}

const job = (extra: Partial<EnrichmentJobRecord>): EnrichmentJobRecord => ({
  id: 7,
  state: 'succeeded',
  causationId: id(1),
  attempts: 1,
  lastErrorCode: null,
  failureReason: null,
  changedFields: ['lastName'],
  requestedAt: at(1),
  nextAttemptAt: at(1),
  finishedAt: '2026-01-01T01:00:02.000Z',
  ...extra,
});

function auditStore(options: {
  customer?: StoredCustomer;
  processed?: ProcessedEventRecord[];
  stale?: ProcessedEventRecord[];
  jobs?: EnrichmentJobRecord[];
  redrives?: Map<string, RedriveRecord>;
  tombstones?: MetadataTombstones;
}): CustomerAuditStore {
  return {
    findCustomer: async (key) =>
      key.tenantId === KEY.tenantId && key.externalId === KEY.externalId
        ? options.customer
        : undefined,
    processedEvents: async (_key, eventIds) =>
      new Map(
        (options.processed ?? [])
          .filter((record) => eventIds.includes(record.eventId))
          .map((record) => [record.eventId, record]),
      ),
    staleWrites: async () => options.stale ?? [],
    metadataTombstones: async () => options.tombstones ?? {},
    enrichmentJobs: async () => options.jobs ?? [],
    redrives: async (positions) =>
      new Map(
        [...(options.redrives ?? [])].filter(([key]) =>
          positions.some((position) => letterPositionKey(position) === key),
        ),
      ),
  };
}

const letter = (offset: string, eventId?: string): CustomerDeadLetter => ({
  position: { topic: 'dlq', partition: 0, offset },
  failedAt: at(5),
  errorCode: 'tenant.task_type_not_allowed',
  errorMessage: 'data.taskType is not one of the task types configured for this tenant',
  errorPath: 'data.taskType',
  original: 'in:0:9',
  replayRunId: undefined,
  eventId,
});

const announcement = (offset: string, reason: 'update' | 'republish', changed: string[]) =>
  ({
    partition: 2,
    offset,
    publishedAt: at(9),
    eventId: id(90 + Number(offset)),
    event: { reason, causationId: id(1), changedFields: changed, occurredAt: at(9), version: 1 },
  }) satisfies Announcement;

async function explain(ports: Partial<ExplainCustomerPorts>, options = {}) {
  const explanation = await explainCustomer(
    { audit: auditStore({ customer: customerHistory() }), ...ports },
    KEY,
    { reveal: false, ...options },
  );
  assert.ok(explanation, 'the customer exists');
  return explanation;
}

describe('explainCustomer (SPEC §7 explain)', () => {
  it('returns nothing for a customer that does not exist', async () => {
    const explanation = await explainCustomer(
      { audit: auditStore({}) },
      { tenantId: 'tenant-a', externalId: 'nobody' },
      { reveal: false },
    );
    assert.equal(explanation, undefined);
  });

  it('names the last writer of every field with its source and applied-at, enrichment by its job', async () => {
    const explanation = await explain({
      audit: auditStore({
        customer: customerHistory(),
        processed: [processed(1), processed(3, { source: 'dialer-portal' })],
        jobs: [job({})],
      }),
    });
    const fields = new Map(explanation.fields.map((field) => [field.field, field]));
    assert.deepEqual(fields.get('doNotCall'), {
      field: 'doNotCall',
      hasValue: true,
      lastWrite: {
        kind: 'event',
        eventId: id(3),
        occurredAt: at(3),
        recorded: true,
        source: 'dialer-portal',
        appliedAt: '2026-01-01T01:00:03.000Z',
      },
    });
    assert.equal(fields.get('email')?.hasValue, false, 'cleared by event 3');
    const email = fields.get('email')?.lastWrite;
    assert.equal(email?.kind === 'event' && email.eventId, id(3));
    assert.deepEqual(fields.get('lastName')?.lastWrite, {
      kind: 'enrichment',
      jobId: 7,
      causationId: id(1),
      filledAt: '2026-01-01T01:00:02.000Z',
    });
    assert.deepEqual(fields.get('phone')?.lastWrite, { kind: 'never' });
    assert.deepEqual(
      [explanation.version, explanation.createdAt, explanation.updatedAt],
      [3, at(1), at(3)],
    );
  });

  it('says when processed_events no longer holds the writer (retention), instead of guessing', async () => {
    const explanation = await explain({});
    const taskType = explanation.fields.find((field) => field.field === 'taskType');
    assert.deepEqual(taskType?.lastWrite, {
      kind: 'event',
      eventId: id(1),
      occurredAt: at(1),
      recorded: false,
      source: null,
      appliedAt: null,
    });
  });

  it('shows values only when revealed', async () => {
    const hidden = await explain({});
    assert.doesNotMatch(JSON.stringify(hidden), /Ann|gold|example\.com|Lee/);
    const revealed = await explain({}, { reveal: true });
    const firstName = revealed.fields.find((field) => field.field === 'firstName');
    assert.equal(firstName?.value, 'Ann');
    assert.deepEqual(revealed.metadata?.value, { tier: 'gold' });
    assert.equal(revealed.metadata?.keys[0]?.value, 'gold');
  });

  it('limits fields, stale writes and announcements to --field, keeping republishes', async () => {
    const explanation = await explain(
      {
        audit: auditStore({
          customer: customerHistory(),
          stale: [
            processed(2, { outcome: 'stale', staleFields: ['firstName'] }),
            processed(4, { staleFields: ['doNotCall'] }),
            processed(0, { outcome: 'stale', staleFields: null }),
          ],
        }),
        announcements: {
          topic: 'updated',
          announcementsFor: async () => ({
            partition: 2,
            announcements: [
              announcement('1', 'update', ['taskType', 'doNotCall']),
              announcement('2', 'update', ['firstName']),
              announcement('3', 'republish', []),
            ],
          }),
        },
      },
      { fields: new Set(['doNotCall']) },
    );
    assert.deepEqual(
      explanation.fields.map((field) => field.field),
      ['doNotCall'],
    );
    assert.equal(explanation.metadata, undefined);
    assert.deepEqual(
      explanation.staleWrites.map((stale) => [stale.eventId, stale.skippedFields]),
      [
        [id(4), ['doNotCall']],
        [id(0), null],
      ],
      'a row from before the fields were recorded may concern any field',
    );
    assert.equal(explanation.history.status, 'read');
    if (explanation.history.status === 'read')
      assert.deepEqual(
        explanation.history.announcements.map((entry) => entry.offset),
        ['1', '3'],
      );
  });

  it('lists open enrichment jobs only', async () => {
    const explanation = await explain({
      audit: auditStore({
        customer: customerHistory(),
        jobs: [job({ id: 9, state: 'pending', changedFields: null, finishedAt: null }), job({})],
      }),
    });
    assert.deepEqual(
      explanation.openEnrichmentJobs.map((open) => [open.id, open.state]),
      [[9, 'pending']],
    );
  });

  it('annotates dead letters with their redrive and what became of the redriven event', async () => {
    const redriven = letter('4', id(5));
    const explanation = await explain({
      audit: auditStore({
        customer: customerHistory(),
        processed: [processed(5)],
        redrives: new Map([
          [
            letterPositionKey(redriven.position),
            { redrivenAt: at(6), runId: id(77), eventId: id(5) },
          ],
        ]),
      }),
      deadLetters: { topic: 'dlq', lettersFor: async () => [letter('3'), redriven] },
    });
    assert.equal(explanation.deadLetters.status, 'read');
    if (explanation.deadLetters.status !== 'read') return;
    assert.deepEqual(
      explanation.deadLetters.letters.map((entry) => [entry.position.offset, entry.redrive]),
      [
        ['3', undefined],
        ['4', { redrivenAt: at(6), runId: id(77), eventId: id(5), outcome: 'applied' }],
      ],
    );
  });

  it('reports an unreachable Kafka by code, keeps the rest, and says nothing was asked when skipped', async () => {
    const unreachable = new CustomerSyncError('range.read_failed', 'broker 10.0.0.1 said no', {
      canRetry: true,
    });
    const explanation = await explain({
      deadLetters: {
        topic: 'dlq',
        lettersFor: async () => {
          throw unreachable;
        },
      },
    });
    assert.deepEqual(explanation.deadLetters, {
      status: 'unavailable',
      topic: 'dlq',
      reason: 'CustomerSyncError (range.read_failed)',
    });
    assert.deepEqual(explanation.history, { status: 'skipped' });
    assert.equal(explanation.fields.length, 15);
  });
});
