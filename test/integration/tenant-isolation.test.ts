import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { before, describe, it } from 'node:test';
import type { CustomerUpdated } from '../../src/contracts/customer-updated.ts';
import { startPipelineFixture } from '../support/pipeline-fixture.ts';
import { anUpdateRequest } from '../support/update-request-builder.ts';
import { waitFor } from '../support/wait-for.ts';

describe('tenants are isolated in every key (SPEC §4.7)', () => {
  let fixture: Awaited<ReturnType<typeof startPipelineFixture>>;
  before(async () => {
    fixture = await startPipelineFixture();
    await fixture.newService().start();
  });

  const announcementsCausedBy = (eventId: string) =>
    fixture.updated.json<CustomerUpdated>().filter((event) => event.causationId === eventId);

  it('applies the same eventId from two tenants to both, and announces two distinct eventIds', async () => {
    const eventId = randomUUID();
    const ofTenantA = anUpdateRequest()
      .withTenant('tenant-a')
      .withEventId(eventId)
      .withExternalId('same-1')
      .withData({ lastName: 'Aalto' })
      .build();
    await fixture.publish([ofTenantA]);
    await waitFor('tenant-a’s customer', () => fixture.customer('tenant-a', 'same-1'));

    // Tenant B re-uses tenant A's eventId (for a customer with the same external id) after
    // tenant A's event was recorded as processed.
    const ofTenantB = anUpdateRequest()
      .withTenant('tenant-b')
      .withEventId(eventId)
      .withExternalId('same-1')
      .withData({ taskType: 'collections', lastName: 'Berg' })
      .build();
    await fixture.publish([ofTenantB]);
    const rowB = await waitFor('tenant-b’s customer', () => fixture.customer('tenant-b', 'same-1'));
    assert.equal(rowB.last_name, 'Berg');
    assert.equal((await fixture.customer('tenant-a', 'same-1'))?.last_name, 'Aalto');

    const announced = await waitFor('both announcements', () => {
      const found = announcementsCausedBy(eventId);
      return found.length >= 2 && found;
    });
    assert.deepEqual(announced.map((event) => event.tenantId).toSorted(), ['tenant-a', 'tenant-b']);
    assert.equal(new Set(announced.map((event) => event.eventId)).size, 2, 'distinct eventIds');
    const [processed] = await fixture.sql<{ count: number }[]>`
      select count(*)::int as count from processed_events where event_id = ${eventId}::uuid`;
    assert.equal(processed?.count, 2, 'one processed event per tenant');
  });

  it('ends every customer of both tenants in its own state when tenant B re-uses tenant A’s eventIds', async () => {
    // The mix the issue found: B's events carry eventIds A already sent, for other customers.
    const requests = [];
    const expected = new Map<string, string>();
    const start = Date.parse('2026-03-01T00:00:00Z');
    for (let n = 0; n < 20; n++) {
      const eventId = randomUUID();
      const occurredAt = new Date(start + n * 1_000);
      requests.push(
        anUpdateRequest()
          .withTenant('tenant-a')
          .withEventId(eventId)
          .withExternalId(`mix-a-${n}`)
          .occurredAt(occurredAt)
          .withData({ city: `A-${n}` })
          .build(),
        anUpdateRequest()
          .withTenant('tenant-b')
          .withEventId(eventId)
          .withExternalId(`mix-b-${n % 7}`)
          .occurredAt(occurredAt)
          .withData({ taskType: 'collections', city: `B-${n}` })
          .build(),
      );
      expected.set(`tenant-a:mix-a-${n}`, `A-${n}`);
      expected.set(`tenant-b:mix-b-${n % 7}`, `B-${n}`);
    }
    await fixture.publish(requests);

    const cities = await waitFor('every customer of the mix in its expected state', async () => {
      const rows = await fixture.sql<{ key: string; city: string }[]>`
        select tenant_id || ':' || external_id as key, city from customers
        where external_id like 'mix-%'`;
      const seen = new Map(rows.map((row) => [row.key, row.city]));
      const settled = [...expected].every(([key, city]) => seen.get(key) === city);
      return settled && seen;
    });
    assert.equal(cities.size, expected.size);
    await waitFor('one announcement per request', () => {
      const ids = new Set(
        fixture.updated
          .json<CustomerUpdated>()
          .filter((event) => event.externalId.startsWith('mix-'))
          .map((event) => event.eventId),
      );
      return ids.size === requests.length;
    });
  });
});
