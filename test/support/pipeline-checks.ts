import assert from 'node:assert/strict';
import type { Sql } from 'postgres';
import {
  customerKey,
  type JsonObject,
  MODEL_FIELDS,
  type ModelCustomer,
  type ModelField,
  type ModelFieldValue,
} from './reference-model.ts';
import type { RecordedMessage } from './topic-recorder.ts';
import { waitFor } from './wait-for.ts';

/**
 * The end-state checks the resilience tests share (SPEC §4.2, §4.3, §4.6): the customers table
 * against the reference model, and customer.updated against the table.
 */

export interface CustomerRowState extends ModelCustomer {
  version: number;
}

const COLUMN_OF: Record<ModelField, string> = {
  taskType: 'task_type',
  firstName: 'first_name',
  lastName: 'last_name',
  email: 'email',
  birthday: 'birthday',
  ssnLast4: 'ssn_last4',
  timezone: 'timezone',
  phone: 'phone',
  address1: 'address1',
  address2: 'address2',
  city: 'city',
  state: 'state',
  zip: 'zip',
  doNotCall: 'do_not_call',
  isTest: 'is_test',
};

/** Every customer row (optionally only externalIds starting with `prefix`), keyed tenant:externalId. */
export async function readCustomerRows(
  sql: Sql,
  prefix = '',
): Promise<Map<string, CustomerRowState>> {
  const rows = await sql<Record<string, unknown>[]>`
    select tenant_id, external_id, task_type, first_name, last_name, email,
      birthday::text as birthday, ssn_last4, timezone, phone, address1, address2, city, state,
      zip, do_not_call, is_test, metadata, version
    from customers where starts_with(external_id, ${prefix})`;
  const customers = new Map<string, CustomerRowState>();
  for (const row of rows) {
    const customer: CustomerRowState = {
      tenantId: row.tenant_id as string,
      externalId: row.external_id as string,
      fields: Object.fromEntries(
        MODEL_FIELDS.map((field) => [field, row[COLUMN_OF[field]] as ModelFieldValue]),
      ) as Record<ModelField, ModelFieldValue>,
      metadata: row.metadata as JsonObject,
      version: row.version as number,
    };
    customers.set(customerKey(customer), customer);
  }
  return customers;
}

export async function processedEventCount(sql: Sql, prefix = ''): Promise<number> {
  const [row] = await sql<{ count: number }[]>`
    select count(*)::int as count from processed_events where starts_with(external_id, ${prefix})`;
  return row?.count ?? 0;
}

export async function outboxCount(sql: Sql): Promise<number> {
  const [row] = await sql<{ count: number }[]>`select count(*)::int as count from outbox`;
  return row?.count ?? 0;
}

/** Waits until every one of `distinctEvents` events is recorded as processed and the outbox is empty. */
export async function waitForAllProcessed(
  sql: Sql,
  distinctEvents: number,
  options: { prefix?: string; timeoutMs?: number } = {},
): Promise<void> {
  let last = { processed: 0, outbox: 0 };
  try {
    await waitFor(
      `all ${distinctEvents} events processed and the outbox empty`,
      async () => {
        last = {
          processed: await processedEventCount(sql, options.prefix),
          outbox: await outboxCount(sql),
        };
        return last.processed >= distinctEvents && last.outbox === 0;
      },
      { timeoutMs: options.timeoutMs ?? 90_000, intervalMs: 250 },
    );
  } catch (error) {
    throw new Error(`${(error as Error).message} (last seen: ${JSON.stringify(last)})`);
  }
  assert.equal(
    await processedEventCount(sql, options.prefix),
    distinctEvents,
    'each distinct event is recorded exactly once in processed_events',
  );
}

/** The customers table equals the model, customer for customer, field for field. */
export function assertCustomersMatchModel(
  actual: Map<string, CustomerRowState>,
  expected: Map<string, ModelCustomer>,
): void {
  assert.deepEqual([...actual.keys()].sort(), [...expected.keys()].sort(), 'the set of customers');
  const mismatches: string[] = [];
  for (const [key, want] of expected) {
    const have = actual.get(key);
    if (!have) continue;
    for (const field of MODEL_FIELDS) {
      if (have.fields[field] !== want.fields[field])
        mismatches.push(
          `${key}.${field}: stored ${JSON.stringify(have.fields[field])}, model ${JSON.stringify(want.fields[field])}`,
        );
    }
    try {
      assert.deepStrictEqual(have.metadata, want.metadata);
    } catch {
      mismatches.push(
        `${key}.metadata: stored ${JSON.stringify(have.metadata)}, model ${JSON.stringify(want.metadata)}`,
      );
    }
  }
  assert.deepEqual(
    mismatches.slice(0, 10),
    [],
    `${mismatches.length} field(s) differ from the model`,
  );
}

interface Announcement {
  eventId: string;
  causationId: string;
  reason: string;
  tenantId: string;
  externalId: string;
  customer: Record<string, unknown> & { version: number; metadata: JsonObject };
}

function parseAnnouncements(messages: readonly RecordedMessage[]) {
  return messages.map((message) => ({
    message,
    event: JSON.parse(message.value?.toString('utf8') ?? 'null') as Announcement,
  }));
}

/** For each customer, the distinct customer.updated eventIds in first-seen (partition) order. */
function announcementsByCustomer(messages: readonly RecordedMessage[]) {
  const seen = new Set<string>();
  const byCustomer = new Map<string, Announcement[]>();
  for (const { event } of parseAnnouncements(messages)) {
    if (seen.has(event.eventId)) continue;
    seen.add(event.eventId);
    const key = customerKey(event);
    const list = byCustomer.get(key) ?? [];
    list.push(event);
    byCustomer.set(key, list);
  }
  return byCustomer;
}

/**
 * Waits until customer.updated holds as many distinct announcements per customer as the
 * customer has versions, then checks SPEC §4.6 on them: a re-sent announcement is
 * byte-identical to the first; each customer's announced versions are exactly 1..version, in
 * order, one announcement each; the last one carries the stored row; one announcement per
 * causing request at most.
 */
export async function assertEveryChangeAnnouncedOnce(
  messages: readonly RecordedMessage[],
  rows: Map<string, CustomerRowState>,
  options: { timeoutMs?: number; prefix?: string } = {},
): Promise<{ resent: number }> {
  const prefix = options.prefix ?? '';
  const expectedTotal = [...rows.values()].reduce((sum, row) => sum + row.version, 0);
  await waitFor(
    `${expectedTotal} distinct customer.updated events (one per version)`,
    () => {
      const byCustomer = announcementsByCustomer(messages);
      let total = 0;
      for (const [key, list] of byCustomer) if (rows.has(key)) total += list.length;
      return total >= expectedTotal;
    },
    { timeoutMs: options.timeoutMs ?? 60_000, intervalMs: 250 },
  );

  const firstCopy = new Map<string, Buffer>();
  let resent = 0;
  for (const message of messages) {
    const id = message.headers['event.id'] ?? '';
    const value = message.value ?? Buffer.alloc(0);
    const earlier = firstCopy.get(id);
    if (earlier === undefined) {
      firstCopy.set(id, value);
      continue;
    }
    resent++;
    assert.ok(earlier.equals(value), `re-sent customer.updated ${id} differs from its first copy`);
  }

  const byCustomer = announcementsByCustomer(messages);
  const problems: string[] = [];
  const causes = new Set<string>();
  for (const [key, row] of rows) {
    const list = byCustomer.get(key) ?? [];
    const versions = list.map((event) => event.customer.version);
    const expectedVersions = Array.from({ length: row.version }, (_, index) => index + 1);
    if (JSON.stringify(versions) !== JSON.stringify(expectedVersions))
      problems.push(
        `${key}: announced versions ${JSON.stringify(versions)}, row version ${row.version}`,
      );
    const last = list.at(-1);
    if (last) {
      for (const field of MODEL_FIELDS) {
        if (last.customer[field] !== row.fields[field])
          problems.push(
            `${key}: last announcement has ${field} ${JSON.stringify(last.customer[field])}`,
          );
      }
      try {
        assert.deepStrictEqual(last.customer.metadata, row.metadata);
      } catch {
        problems.push(`${key}: last announcement's metadata differs from the row`);
      }
    }
    for (const event of list) {
      if (causes.has(event.causationId))
        problems.push(`${key}: ${event.causationId} announced twice`);
      causes.add(event.causationId);
    }
  }
  for (const [key, list] of byCustomer)
    if (!rows.has(key) && list[0]?.externalId.startsWith(prefix))
      problems.push(`${key}: announced but has no row`);
  assert.deepEqual(problems.slice(0, 10), [], `${problems.length} announcement problem(s)`);
  return { resent };
}
