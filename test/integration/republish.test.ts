import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import type { CustomerUpdated } from '../../src/contracts/customer-updated.ts';
import { startPipelineFixture } from '../support/pipeline-fixture.ts';
import { cliEnvironment, jsonReport, runCli, startCli } from '../support/run-cli.ts';
import { anUpdateRequest } from '../support/update-request-builder.ts';
import { waitFor } from '../support/wait-for.ts';

interface RepublishJson {
  runId: string;
  completed: boolean;
  publishedNow: number;
  publishedInRun: number;
}

const TENANT_A = ['a-1', 'a-2', 'a-3', 'a-4', 'a-5'];
const TENANT_B = ['b-1', 'b-2', 'b-3'];

describe('republish: current snapshots to customer.updated', () => {
  let fixture: Awaited<ReturnType<typeof startPipelineFixture>>;
  let env: Record<string, string>;
  const republish = (args: string[]) => runCli(['republish', ...args, '--json'], { env });

  /** The republished events of one run, once the outbox has been relayed. */
  async function eventsOfRun(runId: string, expected: number) {
    await waitFor('the outbox to be relayed', async () => {
      const [row] = await fixture.sql<{ count: number }[]>`select count(*)::int from outbox`;
      return row?.count === 0;
    });
    return waitFor(`${expected} republished events of run ${runId}`, () => {
      const events = fixture.updated
        .json<CustomerUpdated>()
        .filter((event) => event.reason === 'republish' && event.causationId === runId);
      return events.length >= expected && events;
    });
  }

  before(async () => {
    fixture = await startPipelineFixture({
      partitions: 2,
      tenants: { 'tenant-a': ['collections'], 'tenant-b': ['collections'] },
    });
    env = cliEnvironment({ databaseUrl: fixture.databaseUrl, topics: fixture.topics });
    await fixture.newService().start();
    await fixture.publish([
      ...TENANT_A.map((id) =>
        anUpdateRequest()
          .withExternalId(id)
          .withData({ firstName: `Name ${id}` })
          .build(),
      ),
      ...TENANT_B.map((id) => anUpdateRequest().withTenant('tenant-b').withExternalId(id).build()),
    ]);
    await fixture.updated.waitForCount(TENANT_A.length + TENANT_B.length);
  });

  it("emits exactly one tenant's customers, once each, and nothing of the others", async () => {
    const result = await republish(['--tenant', 'tenant-a', '--batch-size', '2']);
    assert.equal(result.code, 0, result.stderr);
    const report = jsonReport<RepublishJson>(result);
    assert.equal(report.completed, true);
    assert.equal(report.publishedNow, TENANT_A.length);

    const events = await eventsOfRun(report.runId, TENANT_A.length);
    assert.deepEqual(events.map((event) => event.externalId).sort(), TENANT_A);
    assert.ok(events.every((event) => event.tenantId === 'tenant-a'));
    assert.equal(new Set(events.map((event) => event.eventId)).size, TENANT_A.length);
    const first = events.find((event) => event.externalId === 'a-1');
    assert.equal(first?.customer.firstName, 'Name a-1');
    assert.deepEqual(first?.changedFields, []);
    const keys = fixture.updated.messages
      .filter((message) => events.some((event) => event.eventId === message.headers['event.id']))
      .map((message) => message.key);
    assert.deepEqual(keys.sort(), TENANT_A.map((id) => `tenant-a:${id}`).sort());

    // The same run again announces no one again; a new run announces everyone, under new ids.
    const rerun = await republish(['--run-id', report.runId]);
    assert.equal(rerun.code, 0, rerun.stderr);
    assert.equal(jsonReport<RepublishJson>(rerun).publishedNow, 0);
    const [outbox] = await fixture.sql<{ count: number }[]>`select count(*)::int from outbox`;
    assert.equal(outbox?.count, 0);

    const next = jsonReport<RepublishJson>(await republish(['--tenant', 'tenant-a']));
    const again = await eventsOfRun(next.runId, TENANT_A.length);
    assert.equal(again.length, TENANT_A.length);
    assert.ok(again.every((event) => !events.some((old) => old.eventId === event.eventId)));
  });

  it('republishes chosen external ids only', async () => {
    const result = await republish(['--tenant', 'tenant-b', '--external-id', 'b-1,b-3']);
    assert.equal(result.code, 0, result.stderr);
    const report = jsonReport<RepublishJson>(result);
    const events = await eventsOfRun(report.runId, 2);
    assert.deepEqual(events.map((event) => event.externalId).sort(), ['b-1', 'b-3']);
  });

  it('stops cleanly on Ctrl-C and a rerun with --run-id finishes the run, each customer once', async () => {
    const running = startCli(
      ['republish', '--tenant', 'tenant-a', '--batch-size', '1', '--rate', '2', '--json'],
      { env: { ...env, CI: 'true' } },
    );
    await waitFor('the first progress line', () => /republish: \d+% 1\/5/.test(running.stderr()));
    running.child.kill('SIGINT');
    const stopped = await running.exited;
    assert.equal(stopped.code, 130, stopped.stderr);
    assert.match(stopped.stderr, /resume with --run-id/);
    const partial = jsonReport<RepublishJson>(stopped);
    assert.equal(partial.completed, false);
    assert.ok(partial.publishedNow >= 1 && partial.publishedNow < TENANT_A.length);

    const resumed = await republish(['--run-id', partial.runId]);
    assert.equal(resumed.code, 0, resumed.stderr);
    const done = jsonReport<RepublishJson>(resumed);
    assert.equal(done.publishedNow, TENANT_A.length - partial.publishedNow);
    assert.equal(done.publishedInRun, TENANT_A.length);

    const events = await eventsOfRun(partial.runId, TENANT_A.length);
    assert.deepEqual(events.map((event) => event.externalId).sort(), TENANT_A);
  });

  it('refuses bad arguments with one line and exit code 2', async () => {
    const { runId } = jsonReport<RepublishJson>(await republish(['--tenant', 'tenant-b']));
    const cases: Array<[string[], RegExp]> = [
      [[], /choose the customers/],
      [['--external-id', 'a-1'], /--external-id needs --tenant/],
      [['--all', '--tenant', 'tenant-a'], /--all cannot be combined/],
      [['--tenant', 'tenant-a', '--run-id', 'not-a-uuid'], /--run-id must be a UUID/],
      [['--tenant', 'tenant-a', '--batch-size', '0'], /--batch-size must be/],
      [['--tenant', 'tenant-a', '--run-id', runId], /resume it with --run-id alone/],
    ];
    for (const [args, message] of cases) {
      const result = await runCli(['republish', ...args], { env });
      assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
      assert.match(result.stderr, message);
      assert.equal(result.stderr.trim().split('\n').length, 1, result.stderr);
    }
  });
});
