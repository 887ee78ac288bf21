import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  assertCustomersMatchModel,
  assertEveryChangeAnnouncedOnce,
  outboxCount,
  processedEventCount,
  readCustomerRows,
  waitForAllProcessed,
} from '../support/pipeline-checks.ts';
import { startPipelineFixture } from '../support/pipeline-fixture.ts';
import { expectedCustomers } from '../support/reference-model.ts';
import type { ServiceProcess } from '../support/service-process.ts';
import { testKafka, uniqueName } from '../support/test-environment.ts';
import { recordTopic } from '../support/topic-recorder.ts';
import { waitFor } from '../support/wait-for.ts';
import { generateWorkload } from '../support/workload.ts';

const TENANTS = { 'tenant-a': ['collections', 'servicing'], 'tenant-b': ['collections'] };
const PARTITIONS = 4;
const SHUTDOWN_TIMEOUT_MS = 20_000;

/** Signals the service and waits for it to exit, failing the test if it outlives its deadline. */
async function stopWith(service: ServiceProcess, signal: NodeJS.Signals) {
  let timer: NodeJS.Timeout | undefined;
  const overran = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`the service did not exit within ${SHUTDOWN_TIMEOUT_MS} ms`)),
      SHUTDOWN_TIMEOUT_MS + 5_000,
    );
  });
  try {
    return await Promise.race([service.kill(signal), overran]);
  } finally {
    clearTimeout(timer);
  }
}

async function committedOffsets(groupId: string, topic: string): Promise<Map<number, bigint>> {
  const admin = testKafka().admin();
  await admin.connect();
  try {
    const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
    return new Map(
      (committed?.partitions ?? []).map(({ partition, offset }) => [
        partition,
        BigInt(offset === '-1' ? 0 : offset),
      ]),
    );
  } finally {
    await admin.disconnect();
  }
}

async function endOffsets(topic: string): Promise<Map<number, bigint>> {
  const admin = testKafka().admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    return new Map(offsets.map(({ partition, high }) => [partition, BigInt(high)]));
  } finally {
    await admin.disconnect();
  }
}

describe('graceful shutdown on SIGTERM and SIGINT (SPEC §4.1, §4.6, §4.9)', () => {
  it('finishes and commits the in-flight batch, flushes the outbox, and exits 0', async (t) => {
    const workload = generateWorkload({
      seed: 9_090_901,
      tenants: TENANTS,
      customersPerTenant: 20,
      // Several chunks per partition (500 events each), so that a stop after the first
      // commits leaves some unstarted: with one chunk per partition every partition's whole
      // backlog could be in flight at the stop, and the test would find nothing left to read.
      events: 6_000,
      duplicateRatio: 0.05,
    });
    const fixture = await startPipelineFixture({
      partitions: PARTITIONS,
      tenants: TENANTS,
      env: { SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS) },
    });
    const topic = fixture.topics.updateRequested;
    const requests = await recordTopic(topic);
    const groupId = uniqueName('graceful');

    const first = await fixture.newService({}, groupId).start();
    await fixture.publish(workload.stream);
    await waitFor(
      'the service to be busy with the backlog',
      async () => (await processedEventCount(fixture.sql)) >= 200,
    );
    const exit = await stopWith(first, 'SIGTERM');
    assert.deepEqual(exit, { code: 0, signal: null }, 'exit code 0, not the deadline exit');
    t.diagnostic(
      `stopped after ${await processedEventCount(fixture.sql)} of ${workload.events.length} events`,
    );

    // The outbox is flushed: every change the stopped replica applied has been announced.
    assert.equal(await outboxCount(fixture.sql), 0, 'the outbox is empty after the shutdown');

    // The committed offsets are exactly the boundary of what was applied: everything below
    // them is applied, nothing at or above them is (the in-flight batch was committed, not
    // left applied-but-uncommitted, and nothing was committed that was not applied).
    const committed = await committedOffsets(groupId, topic);
    await requests.waitForCount(workload.stream.length);
    const processed = new Set(
      (await fixture.sql<{ event_id: string }[]>`select event_id::text from processed_events`).map(
        (row) => row.event_id,
      ),
    );
    const belowCommitted = new Set<string>();
    const problems: string[] = [];
    for (const message of requests.messages) {
      const eventId = String(
        (JSON.parse(message.value?.toString('utf8') ?? '{}') as { eventId?: string }).eventId,
      ).toLowerCase();
      const isBelow = BigInt(message.offset) < (committed.get(message.partition) ?? 0n);
      if (isBelow) {
        belowCommitted.add(eventId);
        if (!processed.has(eventId))
          problems.push(`p${message.partition}@${message.offset} is committed but not applied`);
      }
    }
    for (const eventId of processed)
      if (!belowCommitted.has(eventId)) problems.push(`${eventId} is applied but not committed`);
    assert.deepEqual(problems.slice(0, 10), [], `${problems.length} offset problem(s)`);
    assert.ok(processed.size > 0 && processed.size < workload.events.length, 'stopped mid-stream');

    // A new replica picks up exactly where the first one stopped and finishes the stream;
    // stopped when idle (by SIGINT this time), its group has committed every offset.
    const second = await fixture.newService({}, groupId).start();
    await waitForAllProcessed(fixture.sql, workload.events.length);
    const rows = await readCustomerRows(fixture.sql);
    await assertEveryChangeAnnouncedOnce(fixture.updated.messages, rows);
    assert.deepEqual(await stopWith(second, 'SIGINT'), { code: 0, signal: null });
    assert.deepEqual(
      Object.fromEntries(await committedOffsets(groupId, topic)),
      Object.fromEntries(await endOffsets(topic)),
      'committed offsets equal the end offsets of every partition',
    );
    assert.equal(await outboxCount(fixture.sql), 0, 'the outbox is empty');
    assertCustomersMatchModel(rows, expectedCustomers(workload.events.map((e) => e.expected)));
  });
});
