/**
 * Enrichment end to end (SPEC §6): requests through Kafka into the real service, the
 * lending-system simulator as a real HTTP server, results in Postgres and on customer.updated.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import type { CustomerUpdated } from '../../src/contracts/customer-updated.ts';
import { parseLendingCustomer } from '../../src/contracts/lending-system.ts';
import { CUSTOMER_FIELDS } from '../../src/domain/customer-fields.ts';
import {
  startTestLendingSimulator,
  type TestLendingSimulator,
} from '../support/lending-simulator-fixture.ts';
import { startPipelineFixture } from '../support/pipeline-fixture.ts';
import { cliEnvironment, runCli } from '../support/run-cli.ts';
import type { ServiceProcess } from '../support/service-process.ts';
import { anUpdateRequest } from '../support/update-request-builder.ts';
import { waitFor } from '../support/wait-for.ts';

const TENANT_B_TOKEN = 'tenant-b-lending-token-7f3a9c';

describe('enrichment from the lending system, end to end', () => {
  let fixture: Awaited<ReturnType<typeof startPipelineFixture>>;
  let lending: TestLendingSimulator;
  let tenantBLending: TestLendingSimulator;
  let service: ServiceProcess;

  before(async () => {
    lending = await startTestLendingSimulator();
    tenantBLending = await startTestLendingSimulator({ token: TENANT_B_TOKEN });
    fixture = await startPipelineFixture();
    await fixture.sql`update tenants set lending_api_url = ${tenantBLending.url}
                      where tenant_id = 'tenant-b'`;
    service = await fixture
      .newService({
        LENDING_API_URL: lending.url,
        LENDING_API_TOKENS: JSON.stringify({ 'tenant-b': TENANT_B_TOKEN }),
        ENRICHMENT_POLL_INTERVAL_MS: '100',
        ENRICHMENT_RETRY_INITIAL_DELAY_MS: '100',
        ENRICHMENT_RETRY_MAX_DELAY_MS: '1000',
      })
      .start();
  });

  const jobsOf = (externalId: string) =>
    fixture.sql`select id::int, state, attempts, failure_reason, changed_fields
                from enrichment_jobs where external_id = ${externalId} order by id`;

  /** Waits until the customer has jobs and none of them is pending or running. */
  const jobsFinished = (externalId: string, count = 1) =>
    waitFor(`${count} finished enrichment job(s) of ${externalId}`, async () => {
      const jobs = await jobsOf(externalId);
      return (
        jobs.length >= count &&
        jobs.every((job) => job.state !== 'pending' && job.state !== 'running') &&
        jobs
      );
    });

  const announcementsOf = (externalId: string) =>
    fixture.updated.json<CustomerUpdated>().filter((event) => event.externalId === externalId);

  const waitForAnnouncements = (externalId: string, count: number) =>
    waitFor(`${count} customer.updated of ${externalId}`, () => {
      const events = announcementsOf(externalId);
      return events.length >= count && events;
    });

  const loansOf = (externalId: string) =>
    fixture.sql`select loan_id::float8 as id, reference, status, principal::text, balance::text,
                  currency, opened_on::text, closed_on::text, days_past_due,
                  missing_since is not null as missing
                from loans where external_id = ${externalId} order by loan_id`;

  /** The fields enrichment should fill: what the lending system knows, minus what events set. */
  async function fillableFields(externalId: string, setByEvents: string[]) {
    const known = parseLendingCustomer(await lending.customer('tenant-a', externalId));
    assert.ok(known);
    return {
      known,
      fields: CUSTOMER_FIELDS.filter(
        (field) => Object.hasOwn(known.values, field) && !setByEvents.includes(field),
      ),
    };
  }

  it('creates an unknown customer from the event, then fills it and imports its loans: two customer.updated', async () => {
    const request = anUpdateRequest()
      .withExternalId('enrich-new-1')
      .withData({ firstName: 'Ann', enrich: true })
      .build();
    await fixture.publish([request]);

    const [update, enrichment] = await waitForAnnouncements('enrich-new-1', 2);
    assert.equal(update?.reason, 'update');
    assert.equal(update?.customer.version, 1);
    assert.deepEqual(update?.changedFields.toSorted(), ['firstName', 'taskType']);

    const { known, fields } = await fillableFields('enrich-new-1', ['firstName']);
    assert.equal(enrichment?.reason, 'enrichment');
    assert.equal(enrichment?.causationId, request.eventId);
    assert.equal(enrichment?.customer.version, 2);
    assert.deepEqual(enrichment?.changedFields, fields);
    assert.equal(enrichment?.customer.firstName, 'Ann');
    assert.equal(enrichment?.customer.lastName, known.values.lastName);
    assert.match(enrichment?.customer.phone ?? '', /^\+1\d{10}$/, 'normalised to E.164');

    const row = await fixture.customer('tenant-a', 'enrich-new-1');
    assert.equal(row?.version, 2);
    assert.equal(row?.last_name, known.values.lastName);
    assert.equal(row?.phone, known.values.phone);

    const expectedLoans = await lending.loans('tenant-a', 'enrich-new-1');
    const stored = await loansOf('enrich-new-1');
    assert.deepEqual(
      stored.map((loan) => [loan.id, loan.reference, loan.status, loan.principal, loan.missing]),
      expectedLoans.map((loan) => [loan.id, loan.reference, loan.status, loan.principal, false]),
    );
    const [job] = await jobsFinished('enrich-new-1');
    assert.equal(job?.state, 'succeeded');
    assert.deepEqual(job?.changed_fields, fields);
  });

  it('keeps what an event set before enrichment, a deliberate clear included', async () => {
    await fixture.publish([
      anUpdateRequest()
        .withExternalId('enrich-before-1')
        .withData({ lastName: 'FromEvent', phone: null, enrich: true })
        .build(),
    ]);
    const [, enrichment] = await waitForAnnouncements('enrich-before-1', 2);
    const { fields } = await fillableFields('enrich-before-1', ['lastName', 'phone']);
    assert.deepEqual(enrichment?.changedFields, fields);
    const row = await fixture.customer('tenant-a', 'enrich-before-1');
    assert.equal(row?.last_name, 'FromEvent');
    assert.equal(row?.phone, null);
  });

  it('lets an event that arrives after enrichment win, even one that happened earlier', async () => {
    await fixture.publish([
      anUpdateRequest().withExternalId('enrich-after-1').withData({ enrich: true }).build(),
    ]);
    await waitForAnnouncements('enrich-after-1', 2);
    await fixture.publish([
      anUpdateRequest()
        .withExternalId('enrich-after-1')
        .occurredAt('2020-01-01T00:00:00Z')
        .withData({ firstName: 'LateEvent' })
        .build(),
    ]);
    const [, , late] = await waitForAnnouncements('enrich-after-1', 3);
    assert.equal(late?.reason, 'update');
    assert.deepEqual(late?.changedFields, ['firstName']);
    const row = await fixture.customer('tenant-a', 'enrich-after-1');
    assert.equal(row?.first_name, 'LateEvent');
    assert.equal(row?.version, 3);
  });

  it('imports only the loans named in loanIds, and fills nothing without enrich', async () => {
    const loans = [11, 12, 13].map((id) => ({ id, reference: `L-${id}`, status: 'open' }));
    await lending.override('tenant-a', 'enrich-loan-ids', { loans });
    await fixture.publish([
      anUpdateRequest()
        .withExternalId('enrich-loan-ids')
        .withData({ loanIds: [12, 99] })
        .build(),
    ]);
    const [job] = await jobsFinished('enrich-loan-ids');
    assert.equal(job?.state, 'succeeded');
    assert.deepEqual(
      (await loansOf('enrich-loan-ids')).map((loan) => [loan.id, loan.reference]),
      [[12, 'L-12']],
    );
    assert.deepEqual(
      announcementsOf('enrich-loan-ids').map((event) => event.reason),
      ['update'],
    );
    assert.equal((await fixture.customer('tenant-a', 'enrich-loan-ids'))?.first_name, null);
  });

  it('looks the customer up by loanReferenceId when the request gives one', async () => {
    await lending.override('tenant-a', 'enrich-by-ref', {
      loans: [{ id: 4242, reference: 'ACME-LOAN-77', status: 'delinquent', daysPastDue: 31 }],
    });
    const before = lending.stats().calls;
    await fixture.publish([
      anUpdateRequest()
        .withExternalId('enrich-by-ref')
        .withData({ enrich: true, loanReferenceId: 'ACME-LOAN-77' })
        .build(),
    ]);
    const [job] = await jobsFinished('enrich-by-ref');
    assert.equal(job?.state, 'succeeded');
    const after = lending.stats().calls;
    assert.equal(after.customer_by_loan_reference - before.customer_by_loan_reference, 1);
    assert.equal(after.customer, before.customer, 'not looked up by externalId');
    assert.deepEqual(
      (await loansOf('enrich-by-ref')).map((loan) => [loan.id, loan.status, loan.days_past_due]),
      [[4242, 'delinquent', 31]],
    );
    assert.ok((await fixture.customer('tenant-a', 'enrich-by-ref'))?.last_name);
  });

  it('refuses a loan reference that belongs to someone else; an operator re-runs the job once it is fixed', async () => {
    const [otherLoan] = await lending.loans('tenant-a', 'enrich-other-holder');
    assert.ok(otherLoan?.reference);
    await fixture.publish([
      anUpdateRequest()
        .withExternalId('enrich-mismatch')
        .withData({ enrich: true, loanReferenceId: otherLoan.reference })
        .build(),
    ]);
    const [failed] = await jobsFinished('enrich-mismatch');
    assert.equal(failed?.state, 'failed');
    assert.equal(failed?.failure_reason, 'lending.customer_mismatch');
    assert.equal((await fixture.customer('tenant-a', 'enrich-mismatch'))?.first_name, null);

    const env = cliEnvironment({ databaseUrl: fixture.databaseUrl });
    const listed = await runCli(['enrichment', 'list', '--failed', '--json'], { env });
    assert.equal(listed.code, 0, listed.stderr);
    const rows = listed.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    const row = rows.find((job) => job.externalId === 'enrich-mismatch');
    assert.equal(row?.failureReason, 'lending.customer_mismatch');

    // The lending system's data is corrected: the reference is this customer's after all.
    await lending.override('tenant-a', 'enrich-mismatch', {
      loans: [{ ...otherLoan, id: 777 }],
    });
    const retried = await runCli(['enrichment', 'retry', '--failed'], { env });
    assert.equal(retried.code, 0, retried.stderr);
    assert.match(retried.stdout, /re-queued [1-9]\d* job/);
    await waitFor('the re-run job to succeed', async () => {
      const [job] = await jobsOf('enrich-mismatch');
      return job?.state === 'succeeded';
    });
    assert.ok((await fixture.customer('tenant-a', 'enrich-mismatch'))?.first_name);
  });

  it('ends the job cleanly when the lending system has no such customer, inventing nothing', async () => {
    await fixture.publish([
      anUpdateRequest()
        .withExternalId('unknown-to-lending')
        .withData({ firstName: 'Only', enrich: true })
        .build(),
    ]);
    const [job] = await jobsFinished('unknown-to-lending');
    assert.equal(job?.state, 'no_data');
    assert.equal(job?.failure_reason, null);
    const row = await fixture.customer('tenant-a', 'unknown-to-lending');
    assert.equal(row?.first_name, 'Only');
    assert.equal(row?.last_name, null);
    assert.equal(row?.version, 1);
    assert.equal((await loansOf('unknown-to-lending')).length, 0);
    await waitForAnnouncements('unknown-to-lending', 1);
    assert.deepEqual(
      announcementsOf('unknown-to-lending').map((event) => event.reason),
      ['update'],
    );
  });

  it('marks a loan the lending system stopped returning instead of deleting it', async () => {
    const loan = (id: number) => ({ id, status: 'open', principal: '100.00', currency: 'USD' });
    await lending.override('tenant-a', 'enrich-gone', { loans: [loan(21), loan(22)] });
    await fixture.publish([
      anUpdateRequest().withExternalId('enrich-gone').withData({ enrich: true }).build(),
    ]);
    await jobsFinished('enrich-gone');
    await lending.override('tenant-a', 'enrich-gone', { loans: [loan(22)] });
    await fixture.publish([
      anUpdateRequest().withExternalId('enrich-gone').withData({ enrich: true }).build(),
    ]);
    await jobsFinished('enrich-gone', 2);
    assert.deepEqual(
      (await loansOf('enrich-gone')).map((row) => [row.id, row.missing]),
      [
        [21, true],
        [22, false],
      ],
    );
  });

  it("asks the tenant's own lending system, with the tenant's token, and never logs the token", async () => {
    await fixture.publish([
      anUpdateRequest()
        .withTenant('tenant-b')
        .withExternalId('enrich-tenant-b')
        .withData({ enrich: true })
        .build(),
    ]);
    const [job] = await jobsFinished('enrich-tenant-b');
    assert.equal(job?.state, 'succeeded');
    assert.ok(tenantBLending.stats().outcomes.ok >= 2);
    assert.equal(tenantBLending.stats().outcomes.unauthorized, 0);
    const [row] =
      await fixture.sql`select last_name from customers where tenant_id = 'tenant-b' and external_id = 'enrich-tenant-b'`;
    assert.ok(row?.last_name);
    assert.ok(!JSON.stringify(service.logs).includes(TENANT_B_TOKEN));
  });

  it('announces each enrichment once and keeps the job table tidy: one job per request burst', async () => {
    const burst = Array.from({ length: 5 }, () =>
      anUpdateRequest().withExternalId('enrich-burst').withData({ enrich: true }).build(),
    );
    await fixture.publish(burst);
    await waitForAnnouncements('enrich-burst', 2);
    const jobs = await jobsFinished('enrich-burst');
    assert.ok(jobs.length <= 5);
    const row = await fixture.customer('tenant-a', 'enrich-burst');
    assert.equal(row?.version, 2, 'created, then filled once');
    // Every change is announced exactly once: versions 1 and 2, no repeats.
    await waitFor('the outbox to drain', async () => {
      const [outbox] = await fixture.sql`select count(*)::int as count from outbox`;
      return outbox?.count === 0;
    });
    assert.deepEqual(
      announcementsOf('enrich-burst').map((event) => [event.reason, event.customer.version]),
      [
        ['update', 1],
        ['enrichment', 2],
      ],
    );
  });
});
