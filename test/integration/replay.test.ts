import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { Partitioners } from 'kafkajs';
import type { Sql } from 'postgres';
import type { CustomerUpdated } from '../../src/contracts/customer-updated.ts';
import { connectDatabase } from '../../src/persistence/database.ts';
import { createTenantRepository } from '../../src/persistence/tenant-repository.ts';
import { startPipelineFixture } from '../support/pipeline-fixture.ts';
import { cliEnvironment, jsonReport, runCli, startCli } from '../support/run-cli.ts';
import type { ServiceProcess } from '../support/service-process.ts';
import {
  createTestDatabase,
  createTestTopics,
  messagesOnTopic,
  testKafka,
  testSql,
} from '../support/test-environment.ts';
import { anUpdateRequest, type WireUpdateRequest } from '../support/update-request-builder.ts';
import { waitFor } from '../support/wait-for.ts';

interface ReplayJson {
  dryRun: boolean;
  completed: boolean;
  read: number;
  outcomes: Record<
    'applied' | 'unchanged' | 'duplicate' | 'stale' | 'dead-lettered' | 'skipped',
    number
  >;
  deadLetterCodes: Record<string, number>;
  announced: { written: number; alreadyAnnounced: number };
  deadLetters: { alreadyInDlq: number };
  partitions: Array<{ partition: number; start: string; end: string; reached: string }>;
}

const TENANTS = { 'tenant-a': ['collections', 'servicing'], 'tenant-b': ['collections'] };
const T0 = Date.parse('2026-03-01T10:00:00Z');
const at = (minutes: number) => new Date(T0 + minutes * 60_000).toISOString();

/**
 * A history with every outcome in it: new customers, later changes, a late (stale) write,
 * an all-stale event, a no-op, a duplicate, poison, and an event its tenant did not allow.
 */
function history(): { requests: WireUpdateRequest[]; distinctValid: number } {
  const requests: WireUpdateRequest[] = [];
  for (let index = 0; index < 9; index++) {
    const customer = anUpdateRequest()
      .withTenant(index % 3 === 0 ? 'tenant-b' : 'tenant-a')
      .withExternalId(`cust-${index}`);
    requests.push(
      customer
        .occurredAt(at(index))
        .withData({ firstName: `First${index}`, email: `c${index}@example.com` })
        .build(),
      anUpdateRequest()
        .withTenant(index % 3 === 0 ? 'tenant-b' : 'tenant-a')
        .withExternalId(`cust-${index}`)
        .occurredAt(at(index + 30))
        .withData({ lastName: `Last${index}`, metadata: { tier: index % 2 ? 'gold' : 'silver' } })
        .build(),
      // Late: lastName is older than the stored one (stale), city is new (applied).
      anUpdateRequest()
        .withTenant(index % 3 === 0 ? 'tenant-b' : 'tenant-a')
        .withExternalId(`cust-${index}`)
        .occurredAt(at(index + 10))
        .withData({ lastName: 'Older', city: 'Austin' })
        .build(),
      // Older than everything it writes: stale.
      anUpdateRequest()
        .withTenant(index % 3 === 0 ? 'tenant-b' : 'tenant-a')
        .withExternalId(`cust-${index}`)
        .occurredAt(at(index - 600))
        .withData({ firstName: 'Ancient' })
        .build(),
      // Newer, same value: unchanged.
      anUpdateRequest()
        .withTenant(index % 3 === 0 ? 'tenant-b' : 'tenant-a')
        .withExternalId(`cust-${index}`)
        .occurredAt(at(index + 60))
        .withData({ firstName: `First${index}` })
        .build(),
    );
  }
  const distinctValid = requests.length;
  requests.push(requests[0] as WireUpdateRequest); // a duplicate
  requests.push(
    anUpdateRequest().withExternalId('poison-1').withData({ frstName: 'typo' }).build(),
  );
  // Dead-lettered here; applies wherever tenant-a allows 'sales'.
  requests.push(
    anUpdateRequest()
      .withExternalId('sales-1')
      .occurredAt(at(5))
      .withData({ taskType: 'sales', firstName: 'Sal' })
      .build(),
  );
  return { requests, distinctValid };
}

async function configuredDatabase(tenants: Record<string, string[]>): Promise<string> {
  const url = await createTestDatabase();
  const connection = connectDatabase(url, { poolMax: 1 });
  const repository = createTenantRepository(connection.db);
  for (const [tenantId, taskTypes] of Object.entries(tenants))
    await repository.save({ tenantId, taskTypes });
  await connection.close();
  return url;
}

/** The customers table minus the wall-clock columns, which record when a row was written. */
async function customerTable(sql: Sql, options: { except?: string[] } = {}) {
  const rows = await sql<Record<string, unknown>[]>`
    select * from customers order by tenant_id, external_id`;
  return rows
    .filter((row) => !(options.except ?? []).includes(row.external_id as string))
    .map(({ created_at: _created, updated_at: _updated, ...row }) => row);
}

async function countRows(sql: Sql, table: 'outbox' | 'processed_events' | 'customers') {
  const [row] = await sql<{ count: number }[]>`select count(*)::int as count from ${sql(table)}`;
  return row?.count ?? 0;
}

describe('replay: a range of customer.update.requested through the apply path', () => {
  let fixture: Awaited<ReturnType<typeof startPipelineFixture>>;
  let service: ServiceProcess;
  let announcedBefore: number;
  let distinctAnnounced: number;
  const { requests, distinctValid } = history();

  const replay = (args: string[], databaseUrl: string) =>
    runCli(['replay', ...args, '--json'], {
      env: {
        ...cliEnvironment({ databaseUrl, topics: fixture.topics }),
        KAFKA_GROUP_ID: service.groupId,
      },
    });

  before(async () => {
    fixture = await startPipelineFixture({ partitions: 3, tenants: TENANTS });
    service = await fixture.newService().start();
    await fixture.publishRaw([{ key: 'tenant-a:poison-2', value: '{not json' }]);
    await fixture.publish(requests);
    await waitFor(
      'the live service to process the history',
      async () =>
        (await fixture.processedCount()) === distinctValid &&
        fixture.deadLetters.messages.length === 3 &&
        (await countRows(fixture.sql, 'outbox')) === 0,
      { timeoutMs: 60_000 },
    );
    announcedBefore = await messagesOnTopic(fixture.topics.customerUpdated);
    await fixture.updated.waitForCount(announcedBefore);
    distinctAnnounced = new Set(
      fixture.updated.json<CustomerUpdated>().map((event) => event.eventId),
    ).size;
    assert.ok(distinctAnnounced > 0);
  });

  it('over the live database changes nothing and emits nothing, and leaves the service group where it was', async () => {
    const tableBefore = await customerTable(fixture.sql);
    const admin = testKafka().admin();
    await admin.connect();
    const groupOffsets = () =>
      admin.fetchOffsets({ groupId: service.groupId, topics: [fixture.topics.updateRequested] });
    const offsetsBefore = await groupOffsets();

    const result = await replay(['--from', 'earliest'], fixture.databaseUrl);

    assert.equal(result.code, 0, result.stderr);
    const report = jsonReport<ReplayJson>(result);
    assert.equal(report.completed, true);
    assert.equal(report.read, requests.length + 1);
    assert.equal(report.outcomes.applied, 0);
    assert.equal(report.outcomes.duplicate, distinctValid + 1);
    assert.equal(report.outcomes['dead-lettered'], 3);
    assert.equal(report.deadLetters.alreadyInDlq, 3);
    assert.equal(report.announced.written, 0);

    assert.deepEqual(await customerTable(fixture.sql), tableBefore);
    assert.equal(await countRows(fixture.sql, 'outbox'), 0);
    assert.equal(await messagesOnTopic(fixture.topics.customerUpdated), announcedBefore);
    assert.equal(await messagesOnTopic(fixture.topics.deadLetter), 3);
    assert.deepEqual(await groupOffsets(), offsetsBefore);
    await admin.disconnect();
  });

  it('into an empty database rebuilds the same table and announces only what was never announced', async () => {
    // The rebuilt system allows 'sales', so the one event dead-lettered live now applies.
    const emptyUrl = await configuredDatabase({
      ...TENANTS,
      'tenant-a': [...TENANTS['tenant-a'], 'sales'],
    });
    const rebuilt = testSql(emptyUrl);

    const result = await replay(['--from', 'earliest'], emptyUrl);

    assert.equal(result.code, 0, result.stderr);
    const report = jsonReport<ReplayJson>(result);
    assert.equal(report.completed, true);
    assert.deepEqual(
      await customerTable(rebuilt, { except: ['sales-1'] }),
      await customerTable(fixture.sql),
    );
    assert.equal((await rebuilt`select 1 from customers where external_id = 'sales-1'`).length, 1);
    // Every change announced live keeps its eventId, and customer.updated already has it.
    assert.equal(report.announced.alreadyAnnounced, distinctAnnounced);
    assert.equal(report.announced.written, 1);
    const outbox = await rebuilt<{ payload: CustomerUpdated }[]>`select payload from outbox`;
    assert.deepEqual(
      outbox.map((row) => row.payload.externalId),
      ['sales-1'],
    );
    assert.equal(report.outcomes['dead-lettered'], 2);
    assert.equal(report.deadLetters.alreadyInDlq, 2);
    assert.equal(await messagesOnTopic(fixture.topics.deadLetter), 3);
    assert.equal(await messagesOnTopic(fixture.topics.customerUpdated), announcedBefore);
  });

  it('--dry-run reports what a replay would do and writes nothing', async () => {
    const emptyUrl = await configuredDatabase(TENANTS);
    const untouched = testSql(emptyUrl);

    const dryRun = await replay(['--from', 'earliest', '--dry-run'], emptyUrl);

    assert.equal(dryRun.code, 0, dryRun.stderr);
    const predicted = jsonReport<ReplayJson>(dryRun);
    assert.equal(predicted.dryRun, true);
    for (const table of ['customers', 'processed_events', 'outbox'] as const)
      assert.equal(await countRows(untouched, table), 0, table);
    assert.equal(await messagesOnTopic(fixture.topics.deadLetter), 3);

    // Truthful: the replay then does exactly what the dry run said, chunk after chunk.
    const real = await replay(['--from', 'earliest'], emptyUrl);
    assert.equal(real.code, 0, real.stderr);
    const done = jsonReport<ReplayJson>(real);
    assert.deepEqual(predicted.outcomes, done.outcomes);
    assert.deepEqual(predicted.deadLetterCodes, done.deadLetterCodes);
    assert.deepEqual(predicted.announced, done.announced);
    assert.ok(done.outcomes.applied > 0 && done.outcomes.stale > 0 && done.outcomes.unchanged > 0);
    assert.equal(done.outcomes.duplicate, 1);
  });

  it('--tenant, --partition and --to narrow the range', async () => {
    const emptyUrl = await configuredDatabase(TENANTS);
    const narrowed = testSql(emptyUrl);

    const oneTenant = await replay(['--from', 'earliest', '--tenant', 'tenant-b'], emptyUrl);
    assert.equal(oneTenant.code, 0, oneTenant.stderr);
    const report = jsonReport<ReplayJson>(oneTenant);
    const tenantBEvents = requests.filter((request) => request.tenantId === 'tenant-b').length;
    assert.equal(report.read - report.outcomes.skipped, tenantBEvents);
    const tenantsInTable = await narrowed<{ tenant_id: string }[]>`
      select distinct tenant_id from customers`;
    assert.deepEqual(
      tenantsInTable.map((row) => row.tenant_id),
      ['tenant-b'],
    );

    const twoMessages = await replay(
      ['--from', '0', '--to', '2', '--partition', '1', '--dry-run'],
      emptyUrl,
    );
    assert.equal(twoMessages.code, 0, twoMessages.stderr);
    const partial = jsonReport<ReplayJson>(twoMessages);
    assert.equal(partial.read, 2);
    assert.deepEqual(
      partial.partitions.map((partition) => partition.partition),
      [1],
    );

    const future = await replay(['--from', '2999-01-01T00:00:00Z'], emptyUrl);
    assert.equal(future.code, 0, future.stderr);
    assert.equal(jsonReport<ReplayJson>(future).read, 0);
  });

  it('refuses bad arguments with one line and exit code 2', async () => {
    const cases: Array<[string[], RegExp]> = [
      [[], /--from is required/],
      [['--from', 'yesterday'], /--from must be an offset/],
      [['--from', '5', '--to', '2'], /--to must not be before --from/],
      [['--from', '0', '--partition', 'x'], /--partition must be/],
      [['--from', '0', '--partition', '7'], /has no partition 7/],
      [['--from', '0', '--tenant', 'no spaces'], /--tenant must be/],
    ];
    for (const [args, message] of cases) {
      const result = await replay(args, fixture.databaseUrl);
      assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
      assert.match(result.stderr, message);
      assert.equal(result.stderr.trim().split('\n').length, 1, result.stderr);
    }
  });
});

describe('replay, interrupted', () => {
  it('stops cleanly on Ctrl-C, and rerunning the same command finishes the job', async () => {
    const topics = await createTestTopics(2);
    const databaseUrl = await configuredDatabase(TENANTS);
    const sql = testSql(databaseUrl);
    const events = Array.from({ length: 10_000 }, (_, index) =>
      anUpdateRequest()
        .withExternalId(`bulk-${index % 2_500}`)
        .occurredAt(at(index))
        .withData({ firstName: `Name ${index}` })
        .build(),
    );
    const producer = testKafka().producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    for (let start = 0; start < events.length; start += 1_000) {
      await producer.send({
        topic: topics.updateRequested,
        messages: events.slice(start, start + 1_000).map((event) => ({
          key: `${String(event.tenantId)}:${String(event.externalId)}`,
          value: JSON.stringify(event),
        })),
      });
    }
    await producer.disconnect();
    const env = { ...cliEnvironment({ databaseUrl, topics }), CI: 'true' };

    const running = startCli(['replay', '--from', 'earliest', '--json'], { env });
    await waitFor(
      'the first progress line',
      () => /replay: \d+% \d+\/10000/.test(running.stderr()),
      {
        timeoutMs: 120_000,
      },
    );
    running.child.kill('SIGINT');
    const stopped = await running.exited;
    assert.equal(stopped.code, 130, stopped.stderr);
    const first = jsonReport<ReplayJson>(stopped);
    assert.equal(first.completed, false);
    assert.ok(first.read > 0 && first.read < events.length, `read ${first.read}`);
    assert.equal(await countRows(sql, 'processed_events'), first.outcomes.applied);

    const rerun = await runCli(['replay', '--from', 'earliest', '--json'], { env });
    assert.equal(rerun.code, 0, rerun.stderr);
    const second = jsonReport<ReplayJson>(rerun);
    assert.equal(second.completed, true);
    // What the first run applied is recognised; the rest is applied now, each change once.
    assert.equal(second.outcomes.duplicate, first.outcomes.applied);
    assert.equal(first.outcomes.applied + second.outcomes.applied, events.length);
    assert.equal(await countRows(sql, 'processed_events'), events.length);
    assert.equal(await countRows(sql, 'outbox'), events.length);
    const [latest] = await sql<{ first_name: string }[]>`
      select first_name from customers where external_id = 'bulk-0'`;
    assert.equal(latest?.first_name, 'Name 7500');
  });
});
