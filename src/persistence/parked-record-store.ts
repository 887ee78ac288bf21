import type { Sql, TransactionSql } from 'postgres';
import type {
  NewParkedRecord,
  ParkedKind,
  ParkedRecord,
  ParkedRecordStore,
} from '../application/parked-records.ts';

interface ParkedRow {
  id: string;
  kind: ParkedKind;
  topic: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, string[]>;
  error_code: string;
  error_message: string;
  event_id: string | null;
  tenant_id: string | null;
  external_id: string | null;
  // as text: the service's connections read timestamps as strings (database.ts)
  parked_at: Date | string;
  retries: number;
  last_retried_at: Date | string | null;
}

const base64 = (bytes: Buffer | null) => (bytes === null ? null : bytes.toString('base64'));

/**
 * Parks records in one statement; `sql` may be a transaction, so that the relay parks an
 * announcement and deletes it from the outbox together. Bytes travel as base64 in the JSON
 * parameter (the set-based style of update-batch-store.ts), sent as text: postgres.js would
 * encode a string parameter typed json a second time.
 */
export async function insertParkedRecords(
  sql: Sql | TransactionSql,
  records: NewParkedRecord[],
): Promise<void> {
  if (records.length === 0) return;
  const rows = records.map((record) => ({
    kind: record.kind,
    topic: record.topic,
    key: base64(record.key),
    value: base64(record.value),
    headers: Object.fromEntries(
      Object.entries(record.headers).map(([name, values]) => [
        name,
        values.map((value) => value.toString('base64')),
      ]),
    ),
    error_code: record.errorCode,
    error_message: record.errorMessage,
    event_id: record.eventId ?? null,
    tenant_id: record.tenantId ?? null,
    external_id: record.externalId ?? null,
  }));
  await sql`
    insert into parked_records
      (kind, topic, key, value, headers, error_code, error_message, event_id, tenant_id, external_id)
    select kind, topic, decode(key, 'base64'), decode(value, 'base64'), headers, error_code,
           error_message, event_id, tenant_id, external_id
    from json_to_recordset(${JSON.stringify(rows)}::text::json)
      as r(kind text, topic text, key text, value text, headers jsonb, error_code text,
           error_message text, event_id uuid, tenant_id text, external_id text)`;
}

function recordFromRow(row: ParkedRow): ParkedRecord {
  return {
    id: row.id,
    kind: row.kind,
    topic: row.topic,
    key: row.key,
    value: row.value,
    headers: Object.fromEntries(
      Object.entries(row.headers).map(([name, values]) => [
        name,
        values.map((value) => Buffer.from(value, 'base64')),
      ]),
    ),
    errorCode: row.error_code,
    errorMessage: row.error_message,
    ...(row.event_id !== null ? { eventId: row.event_id } : {}),
    ...(row.tenant_id !== null ? { tenantId: row.tenant_id } : {}),
    ...(row.external_id !== null ? { externalId: row.external_id } : {}),
    parkedAt: new Date(row.parked_at),
    retries: row.retries,
    ...(row.last_retried_at !== null ? { lastRetriedAt: new Date(row.last_retried_at) } : {}),
  };
}

export function createParkedRecordStore(sql: Sql): ParkedRecordStore {
  return {
    park: (records) => insertParkedRecords(sql, records),
    async list(filter) {
      const rows = await sql<ParkedRow[]>`
        select id::text, kind, topic, key, value, headers, error_code, error_message,
               event_id::text, tenant_id, external_id, parked_at, retries, last_retried_at
        from parked_records
        where (${filter.kind ?? null}::text is null or kind = ${filter.kind ?? null})
          and (${filter.codes?.join(',') ?? null}::text is null
               or error_code = any(string_to_array(${filter.codes?.join(',') ?? null}, ',')))
          and (${filter.ids?.join(',') ?? null}::text is null
               or id = any(string_to_array(${filter.ids?.join(',') ?? null}, ',')::bigint[]))
        order by id desc
        limit ${filter.limit ?? null}`;
      return rows.map(recordFromRow);
    },
    async counts() {
      const rows = await sql<{ kind: ParkedKind; code: string; count: number }[]>`
        select kind, error_code as code, count(*)::int as count
        from parked_records group by kind, error_code order by kind, error_code`;
      return [...rows];
    },
    async remove(ids) {
      if (ids.length === 0) return;
      await sql`
        delete from parked_records
        where id = any(string_to_array(${ids.join(',')}, ',')::bigint[])`;
    },
    async recordRefusedRetry(id, refusal) {
      await sql`
        update parked_records
        set retries = retries + 1, last_retried_at = now(),
            error_code = ${refusal.code}, error_message = ${refusal.message}
        where id = ${id}::bigint`;
    },
  };
}
