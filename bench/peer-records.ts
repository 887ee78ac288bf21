import type { WorkloadMessage } from './workload.ts';

/**
 * The benchmark's workload in the form the Debezium JDBC sink expects: Kafka Connect's
 * JsonConverter with schemas (every record carries its schema beside its payload), keyed by
 * the customer (tenant_id, external_id) for `primary.key.mode=record_key`, the value the whole
 * customer row for `insert.mode=upsert`. The sink merges nothing, so the row is the one the
 * upstream system would send: the customer's fields as the stream has set them so far, in
 * arrival order (a late event overwrites newer values: the sink has no per-field
 * last-writer-wins). Messages that are not JSON stay the bytes they are: the converter fails on
 * them and the sink skips them (errors.tolerance=all). Nothing else is validated by the sink.
 */
export interface PeerRecords {
  records: Array<{ key: Buffer; value: Buffer }>;
  /**
   * `seq` is the record's position in the topic, so it rises along every key: the sink has
   * applied everything once the table's sum of `seq` is this (no row can be ahead of its last).
   */
  expectedSeqSum: bigint;
  /** customers (rows) the sink ends with */
  customers: number;
}

/** The row's columns, in the order of the value schema; `seq` is the benchmark's marker. */
const ROW_FIELDS = [
  ['task_type', 'taskType', 'string'],
  ['first_name', 'firstName', 'string'],
  ['last_name', 'lastName', 'string'],
  ['email', 'email', 'string'],
  ['birthday', 'birthday', 'string'],
  ['ssn_last4', 'ssnLast4', 'string'],
  ['timezone', 'timezone', 'string'],
  ['phone', 'phone', 'string'],
  ['address1', 'address1', 'string'],
  ['address2', 'address2', 'string'],
  ['city', 'city', 'string'],
  ['state', 'state', 'string'],
  ['zip', 'zip', 'string'],
  ['do_not_call', 'doNotCall', 'boolean'],
  ['is_test', 'isTest', 'boolean'],
] as const;

const KEY_SCHEMA = {
  type: 'struct',
  name: 'customer_key',
  optional: false,
  fields: [
    { field: 'tenant_id', type: 'string', optional: false },
    { field: 'external_id', type: 'string', optional: false },
  ],
};

const VALUE_SCHEMA = {
  type: 'struct',
  name: 'customer_row',
  optional: false,
  fields: [
    ...ROW_FIELDS.map(([column, , type]) => ({ field: column, type, optional: true })),
    // Debezium's Json semantic type: a json column, written from the text.
    { field: 'metadata', type: 'string', optional: true, name: 'io.debezium.data.Json' },
    { field: 'seq', type: 'int64', optional: false },
  ],
};

interface UpdateEnvelope {
  tenantId: string;
  externalId: string;
  data: Record<string, unknown>;
}

export function peerRecords(messages: readonly WorkloadMessage[]): PeerRecords {
  const rows = new Map<string, Record<string, unknown>>();
  const lastSeq = new Map<string, number>();
  const records: PeerRecords['records'] = [];
  for (const message of messages) {
    const envelope = parseEnvelope(message.value);
    if (envelope === undefined) {
      records.push({ key: Buffer.from(message.key), value: message.value });
      continue;
    }
    const seq = records.length;
    const rowKey = `${envelope.tenantId}\u0000${envelope.externalId}`;
    const row = { ...(rows.get(rowKey) ?? {}) };
    for (const [column, field] of ROW_FIELDS)
      if (field in envelope.data) row[column] = envelope.data[field];
    if ('metadata' in envelope.data) {
      const metadata = envelope.data.metadata;
      row.metadata = metadata === null ? null : JSON.stringify(metadata);
    }
    rows.set(rowKey, row);
    lastSeq.set(rowKey, seq);
    const payload: Record<string, unknown> = {};
    for (const [column] of ROW_FIELDS) payload[column] = row[column] ?? null;
    payload.metadata = row.metadata ?? null;
    payload.seq = seq;
    records.push({
      key: Buffer.from(
        JSON.stringify({
          schema: KEY_SCHEMA,
          payload: { tenant_id: envelope.tenantId, external_id: envelope.externalId },
        }),
      ),
      value: Buffer.from(JSON.stringify({ schema: VALUE_SCHEMA, payload })),
    });
  }
  let expectedSeqSum = 0n;
  for (const seq of lastSeq.values()) expectedSeqSum += BigInt(seq);
  return { records, expectedSeqSum, customers: lastSeq.size };
}

function parseEnvelope(value: Buffer): UpdateEnvelope | undefined {
  try {
    const parsed = JSON.parse(value.toString('utf8')) as Partial<UpdateEnvelope>;
    if (
      typeof parsed.tenantId !== 'string' ||
      typeof parsed.externalId !== 'string' ||
      typeof parsed.data !== 'object' ||
      parsed.data === null
    )
      return undefined;
    return parsed as UpdateEnvelope;
  } catch {
    return undefined;
  }
}
