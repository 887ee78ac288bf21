/**
 * `customer-sync explain` end to end (SPEC §7): a known history of one customer goes through
 * Kafka into the real service (with the lending-system simulator for enrichment), and explain
 * must name the right last writer of every field, the stale writes and the dead letter.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import type {
  CustomerExplanation,
  ExplainedWrite,
} from '../../src/application/explain-customer.ts';
import type { CustomerUpdated } from '../../src/contracts/customer-updated.ts';
import { CUSTOMER_FIELDS } from '../../src/domain/customer-fields.ts';
import { readTopicWithKcat } from '../support/kcat.ts';
import { startTestLendingSimulator } from '../support/lending-simulator-fixture.ts';
import { startPipelineFixture } from '../support/pipeline-fixture.ts';
import { cliEnvironment, jsonReport, runCli } from '../support/run-cli.ts';
import { anUpdateRequest } from '../support/update-request-builder.ts';
import { waitFor } from '../support/wait-for.ts';

const TENANT = 'tenant-a';
const CUSTOMER = 'explain-1';
const KEY = `${TENANT}:${CUSTOMER}`;
const at = (minute: number) => `2026-03-01T10:${String(minute).padStart(2, '0')}:00.000Z`;

/** Requests of one customer, each at its own occurredAt and from its own source. */
const customerEvent = (minute: number, source: string, data: Record<string, unknown>) =>
  anUpdateRequest()
    .withTenant(TENANT)
    .withExternalId(CUSTOMER)
    .occurredAt(at(minute))
    .withSource(source)
    .withData(data)
    .build();

// The story, in the order it is published. Minutes are occurredAt: E4 and E5 arrive late.
const created = customerEvent(20, 'crm', {
  firstName: 'Ann',
  phone: '(415) 555-0132',
  doNotCall: false,
  email: 'ann@example.com',
  metadata: { tier: 'gold', old: 1 },
  enrich: true,
});
const askedNotToBeCalled = customerEvent(30, 'dialer-portal', { doNotCall: true, email: null });
// A producer's metadata may hold terminal escape sequences; explain must print them inert.
const ESCAPE_KEY = '\u001b[2Jwipe';
const metadataPatch = customerEvent(40, 'crm', {
  metadata: { tier: 'silver', old: null, [ESCAPE_KEY]: '\u001b[31mred' },
});
const lateAndPartlyStale = customerEvent(10, 'legacy-batch', {
  doNotCall: false,
  city: 'Springfield',
});
const lateAndWhollyStale = customerEvent(5, 'legacy-batch', { firstName: 'Annie' });
const deadLettered = customerEvent(50, 'crm', { taskType: 'sales' });
const processedInOrder = [
  created,
  askedNotToBeCalled,
  metadataPatch,
  lateAndPartlyStale,
  lateAndWhollyStale,
];

const idOf = (event: Record<string, unknown>) => String(event.eventId);

describe('explain: why a customer looks as it does', () => {
  let fixture: Awaited<ReturnType<typeof startPipelineFixture>>;
  let env: Record<string, string>;
  let filledByEnrichment: string[];
  let enrichmentJobId: number;
  const explain = (args: string[], extraEnv: Record<string, string> = {}) =>
    runCli(['explain', ...args], { env: { ...env, ...extraEnv } });
  const announcementsOf = () =>
    fixture.updated.json<CustomerUpdated>().filter((event) => event.externalId === CUSTOMER);

  before(async () => {
    const lending = await startTestLendingSimulator();
    fixture = await startPipelineFixture({ tenants: { [TENANT]: ['collections', 'servicing'] } });
    env = cliEnvironment({ databaseUrl: fixture.databaseUrl, topics: fixture.topics });
    await fixture
      .newService({
        LENDING_API_URL: lending.url,
        ENRICHMENT_POLL_INTERVAL_MS: '100',
        ENRICHMENT_RETRY_INITIAL_DELAY_MS: '100',
      })
      .start();

    // The enrichment fill lands before anything else, so which fields it filled is known.
    await fixture.publish([created]);
    const [job] = await waitFor('the enrichment job of explain-1 to succeed', async () => {
      const jobs = await fixture.sql<{ id: number; state: string; changed_fields: string[] }[]>`
        select id::int, state, changed_fields from enrichment_jobs where external_id = ${CUSTOMER}`;
      return jobs.length === 1 && jobs[0]?.state === 'succeeded' && jobs;
    });
    assert.ok(job && job.changed_fields.length > 0, 'the simulator knows more of the customer');
    enrichmentJobId = job.id;
    filledByEnrichment = job.changed_fields;
    await waitFor('the creation and enrichment announcements', () => announcementsOf().length >= 2);

    await fixture.publish([...processedInOrder.slice(1), deadLettered]);
    await waitFor('every request of explain-1 to be processed', async () => {
      const [row] = await fixture.sql<{ count: number }[]>`
        select count(*)::int as count from processed_events where external_id = ${CUSTOMER}`;
      return row?.count === processedInOrder.length;
    });
    await fixture.deadLetters.waitForCount(1);
    await waitFor('five announcements of explain-1', () => announcementsOf().length >= 5);
  });

  it('names the right last writer of every field, with source and applied-at, and the enrichment fill', async () => {
    const result = await explain([TENANT, CUSTOMER, '--json']);
    assert.equal(result.code, 0, result.stderr);
    const explanation = jsonReport<CustomerExplanation>(result);
    const writers = Object.fromEntries(
      explanation.fields.map((field) => [field.field, describeWrite(field.lastWrite)]),
    );

    const byEvent = (event: Record<string, unknown>) => `event ${idOf(event)} ${event.source}`;
    const expected: Record<string, string> = {};
    for (const field of CUSTOMER_FIELDS) expected[field] = 'never';
    for (const field of filledByEnrichment) expected[field] = `enrichment job ${enrichmentJobId}`;
    Object.assign(expected, {
      taskType: byEvent(metadataPatch), // every request carries taskType; the newest wins
      firstName: byEvent(created),
      phone: byEvent(created),
      doNotCall: byEvent(askedNotToBeCalled),
      email: byEvent(askedNotToBeCalled),
      city: byEvent(lateAndPartlyStale), // any event beats the lending system's value
    });
    assert.deepEqual(writers, expected);

    const fields = new Map(explanation.fields.map((field) => [field.field, field]));
    assert.equal(fields.get('email')?.hasValue, false, 'email was cleared');
    assert.equal(fields.get('doNotCall')?.hasValue, true);
    for (const field of explanation.fields) {
      assert.equal('value' in field, false, `${field.field}: no value without --reveal`);
      if (field.lastWrite.kind === 'event') assert.ok(field.lastWrite.appliedAt, field.field);
    }
    const doNotCall = fields.get('doNotCall')?.lastWrite;
    assert.equal(doNotCall?.kind === 'event' && doNotCall.occurredAt, at(30));

    assert.deepEqual(describeWrite(explanation.metadata?.lastWrite), byEvent(metadataPatch));
    assert.deepEqual(
      explanation.metadata?.keys.map((key) => [
        key.path.join('.'),
        key.state,
        describeWrite(key.lastWrite),
      ]),
      [
        [ESCAPE_KEY, 'value', byEvent(metadataPatch)],
        ['old', 'deleted', byEvent(metadataPatch)],
        ['tier', 'value', byEvent(metadataPatch)],
      ],
    );
    assert.equal(explanation.version, 5, 'created, enriched, then three changes (E5 was stale)');
  });

  it('lists the stale writes with what they lost, and the dead letter of the key', async () => {
    const explanation = jsonReport<CustomerExplanation>(
      await explain([TENANT, CUSTOMER, '--json']),
    );
    assert.deepEqual(
      explanation.staleWrites
        .map((write) => [write.eventId, write.outcome, write.skippedFields, write.source])
        .sort(),
      [
        [idOf(lateAndPartlyStale), 'applied', ['taskType', 'doNotCall'], 'legacy-batch'],
        [idOf(lateAndWhollyStale), 'stale', ['taskType', 'firstName'], 'legacy-batch'],
      ].sort(),
    );
    const late = explanation.staleWrites.find(
      (write) => write.eventId === idOf(lateAndPartlyStale),
    );
    assert.equal(late?.occurredAt, at(10));

    assert.equal(explanation.deadLetters.status, 'read');
    if (explanation.deadLetters.status !== 'read') return;
    const [letter, ...others] = explanation.deadLetters.letters;
    assert.equal(others.length, 0);
    assert.equal(letter?.errorCode, 'tenant.task_type_not_allowed');
    assert.equal(letter?.eventId, idOf(deadLettered));
    assert.equal(letter?.redrive, undefined);
    // kcat, not our reader, says where the letter is.
    const onTheWire = (await readTopicWithKcat(fixture.topics.deadLetter)).filter(
      (message) => message.key === KEY,
    );
    assert.deepEqual(
      onTheWire.map((message) => `${message.partition}:${message.offset}`),
      [`${letter?.position.partition}:${letter?.position.offset}`],
    );
    assert.deepEqual(explanation.openEnrichmentJobs, []);
  });

  it('shows when the dialers were told: the announcements of the key on customer.updated', async () => {
    const explanation = jsonReport<CustomerExplanation>(
      await explain([TENANT, CUSTOMER, '--history', '--no-dlq', '--json']),
    );
    assert.equal(explanation.deadLetters.status, 'skipped');
    assert.equal(explanation.history.status, 'read');
    if (explanation.history.status !== 'read') return;
    assert.deepEqual(
      explanation.history.announcements.map((entry) => [
        entry.event?.reason,
        entry.event?.causationId,
        entry.event?.changedFields,
      ]),
      [
        [
          'update',
          idOf(created),
          ['taskType', 'firstName', 'email', 'phone', 'doNotCall', 'metadata'],
        ],
        ['enrichment', idOf(created), filledByEnrichment],
        ['update', idOf(askedNotToBeCalled), ['email', 'doNotCall']],
        ['update', idOf(metadataPatch), ['metadata']],
        ['update', idOf(lateAndPartlyStale), ['city']],
      ],
    );
    assert.deepEqual(
      explanation.history.announcements.map((entry) => entry.eventId),
      announcementsOf().map((event) => event.eventId),
    );
    // The partition explain read is where Kafka holds every announcement of the key (kcat).
    const onTheWire = (await readTopicWithKcat(fixture.topics.customerUpdated)).filter(
      (message) => message.key === KEY,
    );
    assert.deepEqual(
      onTheWire.map((message) => `${message.partition}:${message.offset}`),
      explanation.history.announcements.map((entry) => `${entry.partition}:${entry.offset}`),
    );

    const onlyDoNotCall = jsonReport<CustomerExplanation>(
      await explain([TENANT, CUSTOMER, '--history', '--no-dlq', '--field', 'doNotCall', '--json']),
    );
    assert.equal(onlyDoNotCall.history.status, 'read');
    if (onlyDoNotCall.history.status === 'read')
      assert.deepEqual(
        onlyDoNotCall.history.announcements.map((entry) => entry.event?.causationId),
        [idOf(created), idOf(askedNotToBeCalled)],
      );

    const later = jsonReport<CustomerExplanation>(
      await explain([TENANT, CUSTOMER, '--history', '--no-dlq', '--since', '2999-01-01', '--json']),
    );
    assert.deepEqual(later.history.status === 'read' && later.history.announcements, []);
  });

  it('prints an aligned table with the values hidden, and shows them only with --reveal', async () => {
    const hidden = await explain([TENANT, CUSTOMER]);
    assert.equal(hidden.code, 0, hidden.stderr);
    for (const secret of [
      'Ann',
      '555-0132',
      '4155550132',
      'ann@example.com',
      'silver',
      'Springfield',
    ])
      assert.ok(!hidden.stdout.includes(secret), `${secret} is not shown without --reveal`);
    assert.match(
      hidden.stdout,
      /^doNotCall\s+set\s+event\s+\S+\s+2026-03-01T10:30:00\.000Z\s+dialer-portal\s/m,
    );
    assert.match(hidden.stdout, /^email\s+empty\s+event \(cleared\)\s/m);
    assert.match(hidden.stdout, /^isTest\s+empty\s+never written/m);
    assert.match(hidden.stdout, /^metadata\.old\s+deleted\s+event \(deleted\)/m);
    assert.match(hidden.stdout, /values hidden/);
    assert.match(hidden.stdout, /^metadata\["\\x1b\[2Jwipe"\]\s+set\s/m);
    assert.ok(!hidden.stdout.includes('\u001b'), 'no raw escape character reaches the terminal');
    assert.match(hidden.stdout, /stale writes .*: 2/);
    assert.match(hidden.stdout, new RegExp(`dead letters on .* with key ${KEY}: 1`));

    const revealed = await explain([
      TENANT,
      CUSTOMER,
      '--field',
      'doNotCall,phone',
      '--reveal',
      '--no-dlq',
    ]);
    assert.equal(revealed.code, 0, revealed.stderr);
    assert.match(revealed.stdout, /^doNotCall\s+true\s+event\s/m);
    assert.match(revealed.stdout, /^phone\s+\+14155550132\s+event\s/m);
    assert.doesNotMatch(revealed.stdout, /^firstName/m, '--field leaves the others out');

    const metadata = await explain([
      TENANT,
      CUSTOMER,
      '--field',
      'metadata',
      '--reveal',
      '--no-dlq',
    ]);
    assert.ok(!metadata.stdout.includes('\u001b'), 'no raw escape character reaches the terminal');
    assert.ok(metadata.stdout.includes('\\x1b[31mred'), metadata.stdout);
  });

  it('shows a redrive of the dead letter and the write it made once it applied', async () => {
    const tenants = await runCli(
      ['tenants', 'set', TENANT, '--task-types', 'collections,servicing,sales'],
      { env },
    );
    assert.equal(tenants.code, 0, tenants.stderr);
    const redrive = await runCli(['dlq', 'redrive'], { env });
    assert.equal(redrive.code, 0, redrive.stderr);
    await waitFor('the redriven request to be applied', async () => {
      const [row] = await fixture.sql<{ outcome: string }[]>`
        select outcome from processed_events where event_id = ${idOf(deadLettered)}`;
      return row?.outcome === 'applied';
    });
    const explanation = jsonReport<CustomerExplanation>(
      await explain([TENANT, CUSTOMER, '--field', 'taskType', '--json']),
    );
    assert.deepEqual(
      explanation.fields.map((field) => describeWrite(field.lastWrite)),
      [`event ${idOf(deadLettered)} crm`],
    );
    assert.equal(explanation.deadLetters.status, 'read');
    if (explanation.deadLetters.status === 'read') {
      const [letter] = explanation.deadLetters.letters;
      assert.equal(letter?.redrive?.eventId, idOf(deadLettered));
      assert.equal(letter?.redrive?.outcome, 'applied');
    }
  });

  it('answers an unknown customer with one line and exit 1, bad arguments with one line and exit 2', async () => {
    const unknown = await explain([TENANT, 'nobody-9', '--no-dlq']);
    assert.equal(unknown.code, 1);
    assert.equal(unknown.stdout, '');
    assert.deepEqual(unknown.stderr.trim().split('\n'), [
      'customer-sync: explain: tenant tenant-a has no customer nobody-9',
    ]);
    for (const args of [
      [TENANT],
      [TENANT, CUSTOMER, 'extra'],
      [TENANT, CUSTOMER, '--field', 'frstName'],
      [TENANT, CUSTOMER, '--since', 'yesterday'],
      [TENANT, CUSTOMER, '--no-dlq', '--since', '2026-03-01'],
      ['tenant with spaces', CUSTOMER],
    ]) {
      const bad = await explain(args);
      assert.equal(bad.code, 2, args.join(' '));
      assert.equal(bad.stderr.trim().split('\n').length, 1, `${args.join(' ')}: ${bad.stderr}`);
    }
  });

  it('still explains the customer when Kafka cannot be reached, and says the DLQ was not read', async () => {
    const result = await explain([TENANT, CUSTOMER, '--json'], { KAFKA_BROKERS: '127.0.0.1:1' });
    assert.equal(result.code, 0, result.stderr);
    const explanation = jsonReport<CustomerExplanation>(result);
    assert.equal(explanation.deadLetters.status, 'unavailable');
    assert.equal(explanation.fields.length, CUSTOMER_FIELDS.length);
  });
});

/** A last write as one comparable line: `event <id> <source>`, `enrichment job <n>`, `never`. */
function describeWrite(write: ExplainedWrite | undefined): string {
  if (write === undefined) return 'absent';
  if (write.kind === 'never') return 'never';
  if (write.kind === 'enrichment') return `enrichment job ${write.jobId}`;
  return `event ${write.eventId} ${write.source}`;
}
