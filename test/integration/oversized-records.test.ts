import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { before, describe, it } from 'node:test';
import kafkajs from 'kafkajs';
import type { CustomerUpdated } from '../../src/contracts/customer-updated.ts';
import { startPipelineFixture } from '../support/pipeline-fixture.ts';
import { cliEnvironment, runCli } from '../support/run-cli.ts';
import type { ServiceProcess } from '../support/service-process.ts';
import { messagesOnTopic, testKafka } from '../support/test-environment.ts';
import { anUpdateRequest, type WireUpdateRequest } from '../support/update-request-builder.ts';
import { waitFor } from '../support/wait-for.ts';

/**
 * SPEC §4.4: nothing is too big to send, and nothing too big holds up the rest. A customer
 * cannot grow past CUSTOMER_MAX_DOCUMENT_BYTES; what the broker refuses anyway is parked and
 * the relay and the consumer go on; operators list and retry parked records with the CLI.
 */

/** about 14.7 KB of text that compresses poorly, as real metadata often does */
const incompressible = (bytes: number) =>
  randomBytes(Math.ceil((bytes * 3) / 4)).toString('base64');

async function setTopicMaxMessageBytes(topic: string, bytes: number): Promise<void> {
  const admin = testKafka().admin();
  await admin.connect();
  try {
    await admin.alterConfigs({
      validateOnly: false,
      resources: [
        {
          type: kafkajs.ConfigResourceTypes.TOPIC,
          name: topic,
          configEntries: [{ name: 'max.message.bytes', value: String(bytes) }],
        },
      ],
    });
  } finally {
    await admin.disconnect();
  }
}

async function metricsOf(service: ServiceProcess): Promise<string> {
  const running = service.logs.find((line) => line.msg === 'customer-sync is running');
  return (await fetch(`http://127.0.0.1:${running?.httpPort}/metrics`)).text();
}

describe('a customer whose document would outgrow what Kafka accepts', () => {
  it('dead-letters the events past CUSTOMER_MAX_DOCUMENT_BYTES with their own code, while every other announcement flows', async () => {
    const fixture = await startPipelineFixture({ partitions: 3 });
    const service = await fixture.newService().start();
    // 80 valid events, each a metadata patch of ~15 KB (under the 16 KiB rule) under a key of
    // its own: together more than 1 MB, which the broker's default limit would refuse.
    const big = Array.from({ length: 80 }, (_, index) =>
      anUpdateRequest()
        .withExternalId('big')
        .withMetadata({ [`note${index}`]: incompressible(14_700) })
        .build(),
    );
    const others = Array.from({ length: 40 }, (_, index) =>
      anUpdateRequest().withExternalId(`other-${index}`).withData({ city: 'Reno' }).build(),
    );
    const mixed: WireUpdateRequest[] = big.flatMap((request, index) =>
      index % 2 === 0 ? [request, others[index / 2] as WireUpdateRequest] : [request],
    );
    for (let start = 0; start < mixed.length; start += 10)
      await fixture.publish(mixed.slice(start, start + 10));

    await waitFor(
      `all 120 events processed or dead-lettered (processed ${await fixture.processedCount()}, dead letters ${fixture.deadLetters.messages.length})`,
      async () => (await fixture.processedCount()) + fixture.deadLetters.messages.length === 120,
      { timeoutMs: 120_000 },
    );
    const letters = fixture.deadLetters.messages;
    assert.ok(letters.length > 0, 'the events past the limit are dead-lettered');
    for (const letter of letters) {
      assert.equal(letter.key, 'tenant-a:big');
      assert.equal(letter.headers['error.code'], 'customer.document_too_large');
      assert.equal(letter.headers['error.path'], 'data.metadata');
    }
    // the one that crossed the limit is the first one not applied; all after it fail the same way
    const applied = 80 - letters.length;
    const firstLetter = JSON.parse(
      letters[0]?.value?.toString('utf8') ?? '{}',
    ) as WireUpdateRequest;
    assert.equal(firstLetter.eventId, big[applied]?.eventId);

    const announcedCauses = () =>
      new Set(fixture.updated.json<CustomerUpdated>().map((event) => event.causationId));
    await waitFor(
      `the announcements of the ${applied} applied big events and the 40 others (have ${fixture.updated.messages.length})`,
      () => {
        const causes = announcedCauses();
        return (
          [...big.slice(0, applied), ...others].every((request) =>
            causes.has(String(request.eventId)),
          ) && causes
        );
      },
      { timeoutMs: 120_000 },
    );
    const row = await fixture.customer('tenant-a', 'big');
    assert.equal(Object.keys(row?.metadata ?? {}).length, applied, 'the customer kept its state');
    const largest = Math.max(
      ...fixture.updated.messages.map((message) => message.value?.length ?? 0),
    );
    assert.ok(largest <= 524_288 + 4_096, `the largest announcement is ${largest} bytes`);
    const [parked] = await fixture.sql<{ count: number }[]>`
      select count(*)::int as count from parked_records`;
    assert.equal(parked?.count, 0, 'nothing had to be parked');
    assert.match(
      await metricsOf(service),
      /customer_sync_dead_letters_total\{code="customer\.document_too_large"\} [1-9]/,
    );
  });
});

describe('records the broker refuses for good', () => {
  let fixture: Awaited<ReturnType<typeof startPipelineFixture>>;
  let service: ServiceProcess;
  before(async () => {
    fixture = await startPipelineFixture({ partitions: 3 });
    // A topic that takes less than the service may send: 8 KiB records at most.
    await setTopicMaxMessageBytes(fixture.topics.customerUpdated, 8_192);
    await setTopicMaxMessageBytes(fixture.topics.deadLetter, 8_192);
    service = await fixture.newService().start();
  });

  // one second apart: SPEC §4.3 orders a customer's writes by occurredAt
  const at = (second: number) => new Date(Date.UTC(2026, 0, 5, 9, 0, second));
  const first = anUpdateRequest()
    .withExternalId('c-parked')
    .occurredAt(at(1))
    .withData({ city: 'Reno' })
    .build();
  const tooBig = anUpdateRequest()
    .withExternalId('c-parked')
    .occurredAt(at(2))
    .withMetadata({ scan: incompressible(14_000) })
    .build();
  const after = anUpdateRequest()
    .withExternalId('c-parked')
    .occurredAt(at(3))
    .withMetadata({ scan: null })
    .build();
  const poison = { key: 'tenant-a:c-poison', value: `{"broken": "${incompressible(12_000)}` };
  const behindPoison = anUpdateRequest().withExternalId('c-poison').build();
  const others = Array.from({ length: 20 }, (_, index) =>
    anUpdateRequest().withExternalId(`c-${index}`).withData({ city: 'Elko' }).build(),
  );

  it('parks the announcement and the dead letter the broker refuses, and goes on with the rest', async () => {
    await fixture.publish([first, tooBig, after, ...others]);
    await fixture.publishRaw([poison]);
    await fixture.publish([behindPoison]);
    const patience = Date.now() + 60_000;

    const causes = () =>
      new Set(fixture.updated.json<CustomerUpdated>().map((event) => event.causationId));
    const expectedRequests = [first, after, behindPoison, ...others];
    const expected = expectedRequests.map((request) => String(request.eventId));
    await waitFor(
      'every announcement but the refused one',
      async () => {
        const done = expected.every((id) => causes().has(id));
        if (!done && Date.now() > patience)
          throw new Error(
            `missing ${expectedRequests.filter((request) => !causes().has(String(request.eventId))).map((request) => `${request.externalId}@${request.eventId}`)}; have ${fixture.updated.messages.length} announcements of ${await messagesOnTopic(fixture.topics.customerUpdated)} on the topic (${JSON.stringify(fixture.updated.json<CustomerUpdated>().map((e) => [e.externalId, e.customer.version]))}), ${await fixture.processedCount()} processed, ${(await fixture.sql`select 1 from outbox`).length} in the outbox; log tail ${JSON.stringify(service.logs.slice(-4))}`,
          );
        return done;
      },
      { timeoutMs: 90_000 },
    );
    assert.equal(causes().has(String(tooBig.eventId)), false);
    // the customer's later announcement went out after the parked one: version 3
    const latest = fixture.updated
      .json<CustomerUpdated>()
      .find((event) => event.causationId === after.eventId);
    assert.equal(latest?.customer.version, 3);

    const parked = await waitFor('two parked records', async () => {
      const rows = await fixture.sql<
        { kind: string; error_code: string; event_id: string | null; topic: string }[]
      >`select kind, error_code, event_id::text, topic from parked_records order by id`;
      return rows.length === 2 && rows;
    });
    const announcement = parked.find((row) => row.kind === 'announcement');
    const letter = parked.find((row) => row.kind === 'dead_letter');
    assert.equal(announcement?.topic, fixture.topics.customerUpdated);
    assert.match(announcement?.error_code ?? '', /^kafka\.(message|record_list)_too_large$/);
    assert.equal(letter?.topic, fixture.topics.deadLetter);
    const announced = fixture.updated.messages.length;
    assert.ok(
      (await fixture.sql`select 1 from outbox`).length === 0,
      'the outbox is empty: nothing is retried in front of the rest',
    );
    assert.ok(announced > 0);
    assert.match(
      await metricsOf(service),
      /customer_sync_parked_records_total\{kind="announcement",code="kafka\.[a-z_]+"\} 1/,
    );
  });

  it('lists and shows parked records without their content, and retries them once the topics take them', async () => {
    const env = cliEnvironment({ databaseUrl: fixture.databaseUrl, topics: fixture.topics });
    const listed = await runCli(['parked', 'list', '--json'], { env });
    assert.equal(listed.code, 0, listed.stderr);
    const rows = listed.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { id: string; kind: string; eventId: string | null });
    assert.deepEqual(rows.map((row) => row.kind).sort(), ['announcement', 'dead_letter']);
    const announcement = rows.find((row) => row.kind === 'announcement');
    const [stored] = await fixture.sql<{ event_id: string }[]>`
      select event_id::text from parked_records where kind = 'announcement'`;
    assert.equal(
      announcement?.eventId,
      stored?.event_id,
      'the announcement is named by its eventId',
    );

    const shown = await runCli(['parked', 'show', String(announcement?.id)], { env });
    assert.equal(shown.code, 0, shown.stderr);
    assert.match(shown.stdout, /payload +hidden/);
    assert.doesNotMatch(shown.stdout, /scan/, 'no customer data without --reveal');

    const refusedAgain = await runCli(['parked', 'retry', '--all'], { env });
    assert.equal(refusedAgain.code, 1, 'still refused: the topics were not fixed yet');
    assert.match(refusedAgain.stdout, /refused again +2/);

    await setTopicMaxMessageBytes(fixture.topics.customerUpdated, 1_048_588);
    await setTopicMaxMessageBytes(fixture.topics.deadLetter, 1_048_588);
    const retried = await runCli(['parked', 'retry', '--all'], { env });
    assert.equal(retried.code, 0, retried.stdout + retried.stderr);
    assert.match(retried.stdout, /sent +2 \(unparked\)/);

    await waitFor('the parked announcement on customer.updated', () =>
      fixture.updated
        .json<CustomerUpdated>()
        .find((event) => event.causationId === tooBig.eventId && event.customer.version === 2),
    );
    const letter = await waitFor('the parked dead letter on the DLQ', () =>
      fixture.deadLetters.messages.find((message) => message.key === poison.key),
    );
    assert.equal(letter.headers['error.code'], 'decode.malformed');
    assert.equal(letter.value?.toString('utf8'), poison.value, 'the original bytes');
    const empty = await runCli(['parked', 'list', '--json'], { env });
    assert.equal(empty.stdout.trim(), '');
  });
});
