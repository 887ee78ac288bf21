import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { publishPaced } from '../support/paced-publisher.ts';
import {
  assertCustomersMatchModel,
  assertEveryChangeAnnouncedOnce,
  processedEventCount,
  readCustomerRows,
  waitForAllProcessed,
} from '../support/pipeline-checks.ts';
import { startPipelineFixture } from '../support/pipeline-fixture.ts';
import { expectedCustomers } from '../support/reference-model.ts';
import { uniqueName } from '../support/test-environment.ts';
import { waitFor } from '../support/wait-for.ts';
import { generateWorkload } from '../support/workload.ts';

const TENANTS = {
  'tenant-a': ['collections', 'servicing'],
  'tenant-b': ['collections'],
  'tenant-c': ['servicing', 'collections'],
};
const PARTITIONS = 4;

/** The partitions of `topic` the member was given when it last joined its group. */
function lastAssignment(
  logs: ReadonlyArray<Record<string, unknown>>,
  topic: string,
): number[] | undefined {
  const joined = logs.filter((line) => line.msg === 'joined the consumer group').at(-1);
  const assigned = joined?.assigned as Record<string, number[]> | undefined;
  return assigned?.[topic]?.toSorted((a, b) => a - b);
}

describe('two replicas in one group, rebalanced mid-stream (SPEC §4.2, §4.3, §4.6, §4.8)', () => {
  it('shares the partitions, hands them over on SIGTERM, and still applies and announces every event once', async () => {
    const workload = generateWorkload({
      seed: 4_242_017,
      tenants: TENANTS,
      customersPerTenant: 12,
      events: 1_800,
      duplicateRatio: 0.1,
    });
    const fixture = await startPipelineFixture({ partitions: PARTITIONS, tenants: TENANTS });
    const topic = fixture.topics.updateRequested;
    const groupId = uniqueName('rebalance');
    const first = await fixture.newService({}, groupId).start();
    assert.deepEqual(lastAssignment(first.logs, topic), [0, 1, 2, 3]);

    const publishing = publishPaced(fixture.publish, workload.stream, {
      sliceSize: 20,
      pauseMs: 120,
    });
    await waitFor(
      'the first replica to be applying the stream',
      async () => (await processedEventCount(fixture.sql)) >= 300,
    );

    // A second replica joins while events flow: the group rebalances and splits the partitions.
    const second = await fixture.newService({}, groupId).start();
    const shared = await waitFor('both replicas to hold part of the partitions', () => {
      const mine = lastAssignment(first.logs, topic) ?? [];
      const theirs = lastAssignment(second.logs, topic) ?? [];
      return mine.length > 0 && theirs.length > 0 && { mine, theirs };
    });
    assert.deepEqual(
      [...shared.mine, ...shared.theirs].toSorted((a, b) => a - b),
      [0, 1, 2, 3],
      'every partition has exactly one owner',
    );

    const processedAtSplit = await processedEventCount(fixture.sql);
    await waitFor(
      'both replicas to make progress together',
      async () =>
        (await processedEventCount(fixture.sql)) >=
        Math.min(workload.events.length, processedAtSplit + 200),
    );

    // The first replica is stopped the way an orchestrator stops it; the second takes over.
    const exit = await first.kill('SIGTERM');
    assert.equal(exit?.code, 0, 'SIGTERM is a clean exit');
    await waitFor('the remaining replica to own every partition', () => {
      const all = lastAssignment(second.logs, topic);
      return all?.length === PARTITIONS;
    });
    await publishing.done;

    await waitForAllProcessed(fixture.sql, workload.events.length);
    const rows = await readCustomerRows(fixture.sql);
    assertCustomersMatchModel(rows, expectedCustomers(workload.events.map((e) => e.expected)));
    await assertEveryChangeAnnouncedOnce(fixture.updated.messages, rows);
    assert.equal(fixture.deadLetters.messages.length, 0, 'no valid event is dead-lettered');
  });
});
