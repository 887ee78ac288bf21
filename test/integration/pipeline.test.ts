import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import type { CustomerUpdated } from '../../src/contracts/customer-updated.ts';
import { startPipelineFixture } from '../support/pipeline-fixture.ts';
import { anUpdateRequest } from '../support/update-request-builder.ts';
import { waitFor } from '../support/wait-for.ts';

describe('the pipeline, end to end through Kafka and Postgres', () => {
  let fixture: Awaited<ReturnType<typeof startPipelineFixture>>;
  before(async () => {
    fixture = await startPipelineFixture();
    await fixture.newService().start();
  });

  it('creates the customer from an update and announces it on customer.updated', async () => {
    const request = anUpdateRequest()
      .withExternalId('new-1')
      .withData({
        firstName: ' Ann ',
        phone: '(415) 555-0132',
        state: 'ca',
        email: 'Ann@Example.COM',
      })
      .build();
    await fixture.publish([request]);

    const row = await waitFor('the customer row', () => fixture.customer('tenant-a', 'new-1'));
    assert.equal(row.first_name, 'Ann');
    assert.equal(row.phone, '+14155550132');
    assert.equal(row.state, 'CA');
    assert.equal(row.email, 'Ann@example.com');
    assert.equal(row.version, 1);

    const announced = await waitFor('its customer.updated', () =>
      fixture.updated
        .json<CustomerUpdated>()
        .find((event) => event.causationId === request.eventId),
    );
    assert.equal(announced.reason, 'update');
    assert.equal(announced.customer.phone, '+14155550132');
    assert.equal(announced.customer.version, 1);
    assert.deepEqual(announced.changedFields.toSorted(), [
      'email',
      'firstName',
      'phone',
      'state',
      'taskType',
    ]);
    const message = fixture.updated.messages.find(
      (m) => m.headers['event.id'] === announced.eventId,
    );
    assert.equal(message?.key, 'tenant-a:new-1');
  });

  it('applies a redelivered event once and announces it once', async () => {
    const request = anUpdateRequest().withExternalId('dup-1').withData({ lastName: 'Lee' }).build();
    await fixture.publish([request, request, request]);
    await waitFor(
      'the event to be processed',
      async () => (await fixture.customer('tenant-a', 'dup-1'))?.version === 1,
    );
    const later = anUpdateRequest().withExternalId('dup-1').withData({ city: 'Austin' }).build();
    await fixture.publish([later, request]);
    await waitFor(
      'the later event',
      async () => (await fixture.customer('tenant-a', 'dup-1'))?.city === 'Austin',
    );
    await waitFor(
      'both announcements',
      () =>
        fixture.updated.json<CustomerUpdated>().filter((event) => event.externalId === 'dup-1')
          .length >= 2,
    );
    const announcements = fixture.updated
      .json<CustomerUpdated>()
      .filter((event) => event.externalId === 'dup-1');
    assert.deepEqual(
      announcements.map((event) => event.customer.version),
      [1, 2],
    );
    assert.equal((await fixture.customer('tenant-a', 'dup-1'))?.version, 2);
  });

  it('keeps the newer lastName when an older event arrives late', async () => {
    const newer = anUpdateRequest()
      .withExternalId('late-1')
      .occurredAt('2026-03-01T10:00:00Z')
      .withData({ lastName: 'Newer' })
      .build();
    const older = anUpdateRequest()
      .withExternalId('late-1')
      .occurredAt('2026-03-01T09:00:00Z')
      .withData({ lastName: 'Older', firstName: 'Ann' })
      .build();
    await fixture.publish([newer, older]);
    const row = await waitFor('both events applied', async () => {
      const current = await fixture.customer('tenant-a', 'late-1');
      return current?.first_name === 'Ann' && current;
    });
    assert.equal(row.last_name, 'Newer');
  });

  it('dead-letters poison with its original bytes and a reason, and later events still apply', async () => {
    const unknownField = anUpdateRequest()
      .withExternalId('poison-1')
      .withData({ frstName: 'typo' })
      .build();
    const unknownTenant = anUpdateRequest()
      .withTenant('tenant-z')
      .withExternalId('poison-1')
      .build();
    const taskType = anUpdateRequest()
      .withExternalId('poison-1')
      .withData({ taskType: 'sales' })
      .build();
    await fixture.publishRaw([{ key: 'tenant-a:poison-1', value: '{not json' }]);
    await fixture.publish([unknownField, unknownTenant, taskType]);
    const good = anUpdateRequest()
      .withExternalId('poison-1')
      .withData({ firstName: 'Good' })
      .build();
    await fixture.publish([good]);

    await waitFor(
      'the good event',
      async () => (await fixture.customer('tenant-a', 'poison-1'))?.first_name === 'Good',
    );
    const letters = await fixture.deadLetters.waitForCount(4);
    const codes = letters.map((letter) => letter.headers['error.code']).sort();
    assert.deepEqual(codes, [
      'data.unknown_field',
      'decode.malformed',
      'tenant.task_type_not_allowed',
      'tenant.unknown',
    ]);
    const malformed = letters.find((letter) => letter.headers['error.code'] === 'decode.malformed');
    assert.equal(malformed?.value?.toString(), '{not json');
    assert.equal(malformed?.key, 'tenant-a:poison-1');
    assert.equal(malformed?.headers['original.topic'], fixture.topics.updateRequested);
    for (const letter of letters) {
      for (const header of [
        'original.partition',
        'original.offset',
        'original.timestamp',
        'failed.at',
        'service.version',
        'error.message',
      ]) {
        assert.ok(letter.headers[header], `${header} on ${letter.headers['error.code']}`);
      }
    }
  });
});
