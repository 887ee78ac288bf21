import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { publishPaced } from '../support/paced-publisher.ts';
import {
  assertCustomersMatchModel,
  assertEveryChangeAnnouncedOnce,
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
  'tenant-c': ['servicing', 'collections', 'recovery'],
};

describe('crash recovery: kill -9 mid-stream, then restart (SPEC §4.1, §4.2, §4.6, §4.8)', () => {
  it('loses nothing, applies each event once in effect, and announces every change once', async (t) => {
    const workload = generateWorkload({
      seed: 8_041_966,
      tenants: TENANTS,
      customersPerTenant: 15,
      events: 1_800,
      duplicateRatio: 0.1,
    });
    const fixture = await startPipelineFixture({
      partitions: 4,
      tenants: TENANTS,
      env: { KAFKA_SESSION_TIMEOUT_MS: '6000' },
    });
    const groupId = uniqueName('crash-recovery');
    let service = await fixture.newService({}, groupId).start();

    // The stream in four phases; in each of the first three the service is killed with
    // SIGKILL once it is busy applying, and restarted while the phase is still publishing.
    const phases = 4;
    const phaseSize = Math.ceil(workload.stream.length / phases);
    for (let phase = 0; phase < phases; phase++) {
      const slice = workload.stream.slice(phase * phaseSize, (phase + 1) * phaseSize);
      const publishing = publishPaced(fixture.publish, slice, { sliceSize: 40, pauseMs: 60 });
      if (phase < phases - 1) {
        const processedAtStart = await fixture.processedCount();
        await waitFor(
          `the service to be applying phase ${phase + 1}`,
          async () => (await fixture.processedCount()) >= processedAtStart + 100,
        );
        const exit = await service.kill('SIGKILL');
        assert.equal(exit?.signal, 'SIGKILL');
        service = await fixture.newService({}, groupId).start();
      }
      await publishing.done;
    }

    await waitForAllProcessed(fixture.sql, workload.events.length);
    const rows = await readCustomerRows(fixture.sql);
    assertCustomersMatchModel(rows, expectedCustomers(workload.events.map((e) => e.expected)));
    const { resent } = await assertEveryChangeAnnouncedOnce(fixture.updated.messages, rows);
    t.diagnostic(`customer.updated re-sent after the crashes: ${resent}`);
    assert.equal(fixture.deadLetters.messages.length, 0, 'no valid event is dead-lettered');
  });
});
