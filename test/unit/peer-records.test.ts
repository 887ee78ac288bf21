import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { peerRecords } from '../../bench/peer-records.ts';
import type { WorkloadMessage } from '../../bench/workload.ts';

function update(
  sequence: number,
  externalId: string,
  data: Record<string, unknown>,
): WorkloadMessage {
  const eventId = `00000000-0000-4000-8000-${String(sequence).padStart(12, '0')}`;
  return {
    key: `tenant-1:${externalId}`,
    eventId,
    kind: 'update',
    value: Buffer.from(
      JSON.stringify({
        eventId,
        type: 'customer.update.requested',
        version: 1,
        occurredAt: '2026-01-05T09:00:00.000Z',
        tenantId: 'tenant-1',
        externalId,
        data,
      }),
    ),
  };
}

type Envelope = { schema: { fields: Array<{ field: string }> }; payload: Record<string, unknown> };
const parse = (buffer: Buffer) => JSON.parse(buffer.toString()) as Envelope;

describe('the Debezium JDBC sink peer records', () => {
  const messages: WorkloadMessage[] = [
    update(1, 'cust-1', { taskType: 'collections', firstName: 'Ann', metadata: { a: 1 } }),
    { key: 'tenant-1:cust-2', eventId: undefined, kind: 'invalid', value: Buffer.from('{"bad') },
    update(3, 'cust-1', { taskType: 'collections', city: 'Austin', firstName: null }),
    update(4, 'cust-2', { taskType: 'servicing', doNotCall: true }),
  ];
  const peer = peerRecords(messages);

  it('keys each record by the customer, as a Connect struct with its schema', () => {
    const key = parse(peer.records[0]?.key as Buffer);
    assert.deepEqual(
      key.schema.fields.map((field) => field.field),
      ['tenant_id', 'external_id'],
    );
    assert.deepEqual(key.payload, { tenant_id: 'tenant-1', external_id: 'cust-1' });
  });

  it('carries the whole row as the stream has set it so far, null for what was never set', () => {
    const row = parse(peer.records[2]?.value as Buffer).payload;
    assert.equal(row.task_type, 'collections');
    assert.equal(row.city, 'Austin');
    assert.equal(row.first_name, null, 'null clears');
    assert.equal(row.metadata, '{"a":1}', 'metadata stays from the first update, as JSON text');
    assert.equal(row.email, null);
    assert.equal(row.seq, 2);
  });

  it('passes bytes that are not JSON through unchanged, for the converter to reject', () => {
    assert.equal(peer.records[1]?.value.toString(), '{"bad');
    assert.equal(peer.records.length, messages.length);
  });

  it('knows the end state: every customer at its last record', () => {
    assert.equal(peer.customers, 2);
    assert.equal(peer.expectedSeqSum, 2n + 3n);
  });
});
