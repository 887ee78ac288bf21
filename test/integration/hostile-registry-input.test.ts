/**
 * SPEC §4.4 with a real Schema Registry and the real service: values whose decoding used to
 * crash a replica or freeze its event loop are dead-lettered on their first attempt, with
 * their original bytes, and the partition moves on to the update behind them.
 * - an Avro value of ~150 bytes declaring 10⁹ loanIds (avsc allocated until the heap ran out);
 * - values a registered JSON Schema with a backtracking pattern (`^(a|a)*$`) checks (seconds
 *   per value on V8's engine: heartbeats stopped and the group rebalanced);
 * - strings that are not UTF-8, in Avro and in JSON Schema wire format (once read lossily).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { before, describe, it } from 'node:test';
import { toAvroUpdateRequest } from '../../src/contracts/customer-update-requested-avro.ts';
import { createSchemaRegistryClient } from '../../src/messaging/schema-registry/schema-registry-client.ts';
import {
  registerSubjectSchema,
  topicValueSubject,
} from '../../src/messaging/schema-registry/schema-subjects.ts';
import { varint } from '../support/adversarial-bytes.ts';
import { startPipelineFixture } from '../support/pipeline-fixture.ts';
import type { ServiceProcess } from '../support/service-process.ts';
import { testSchemaRegistryUrl } from '../support/test-schema-registry.ts';
import { anUpdateRequest } from '../support/update-request-builder.ts';
import { waitFor } from '../support/wait-for.ts';
import { wireFormat } from '../support/wire-format.ts';

const SCHEMAS = new URL('../../schemas/', import.meta.url);
const RETRYING = 'transient failure, partition paused, retrying';

describe('hostile values through the service with a real Schema Registry', () => {
  let fixture: Awaited<ReturnType<typeof startPipelineFixture>>;
  let service: ServiceProcess;
  let registry: ReturnType<typeof createSchemaRegistryClient>;
  let avroId: number;
  let backtrackingJsonId: number;

  before(async () => {
    const registryUrl = await testSchemaRegistryUrl();
    registry = createSchemaRegistryClient({ url: registryUrl, timeoutMs: 10_000 });
    // One partition: every value below is in front of the next one.
    fixture = await startPipelineFixture({
      partitions: 1,
      env: { SCHEMA_REGISTRY_URL: registryUrl },
    });
    const subject = topicValueSubject(fixture.topics.updateRequested);
    avroId = (
      await registerSubjectSchema(registry, {
        subject,
        file: 'customer.update.requested.avsc',
        schemaType: 'AVRO',
        schema: readFileSync(new URL('customer.update.requested.avsc', SCHEMAS), 'utf8'),
      })
    ).id;
    const jsonSchema = JSON.parse(
      readFileSync(new URL('customer.update.requested.schema.json', SCHEMAS), 'utf8'),
    );
    jsonSchema.properties.data.properties.firstName.pattern = '^(a|a)*$';
    backtrackingJsonId = (
      await registerSubjectSchema(registry, {
        subject: `${fixture.topics.updateRequested}-backtracking-json-value`,
        file: 'a JSON Schema with a backtracking pattern',
        schemaType: 'JSON',
        schema: JSON.stringify(jsonSchema),
      })
    ).id;
    service = await fixture.newService().start();
  });

  const letterOf = (bytes: Buffer) =>
    fixture.deadLetters.messages.find((message) => message.value?.equals(bytes));

  function avroUpdate(externalId: string, data: Record<string, unknown>) {
    const request = anUpdateRequest().withExternalId(externalId).withData(data).build();
    return registry.library.encode(avroId, toAvroUpdateRequest(request));
  }

  function jsonUpdate(externalId: string, data: Record<string, unknown>): Buffer {
    const request = anUpdateRequest()
      .withExternalId(externalId)
      .withData({ taskType: 'collections', ...data })
      .build();
    return wireFormat(backtrackingJsonId, Buffer.from(JSON.stringify(request)));
  }

  /** The service neither crashed, restarted, left its group, nor retried anything. */
  function assertUndisturbed() {
    assert.equal(service.hasExited(), false, JSON.stringify(service.logs.slice(-5)));
    assert.equal(service.countLogs('joined the consumer group'), 1, 'no rebalance');
    assert.equal(service.countLogs(RETRYING), 0, 'every value answered on its first attempt');
  }

  it('dead-letters an Avro value that declares 10⁹ loanIds and applies the update behind it', async () => {
    const valid = await avroUpdate('hostile-avro-1', { loanIds: [7] });
    // loanIds: union branch 1, a block of 1 item, the long 7, the end: the count made 10⁹.
    const at = valid.lastIndexOf(Buffer.from([0x02, 0x02, 0x0e, 0x00]));
    const hostile = Buffer.concat([valid.subarray(0, at + 1), varint(1_000_000_000)]);
    assert.ok(hostile.length < 200, `${hostile.length} bytes`);
    const behind = await avroUpdate('after-hostile-avro-1', { firstName: 'Ann' });
    await fixture.publishRaw([
      { key: 'tenant-a:hostile-avro-1', value: hostile },
      { key: 'tenant-a:after-hostile-avro-1', value: behind },
    ]);

    const row = await waitFor('the update behind the hostile value applied', () =>
      fixture.customer('tenant-a', 'after-hostile-avro-1'),
    );
    assert.equal(row.first_name, 'Ann');
    const letter = await waitFor('the hostile value dead-lettered', () => letterOf(hostile));
    assert.equal(letter.headers['error.code'], 'decode.length_exceeds_message');
    assert.equal(letter.headers['error.path'], 'data.loanIds');
    assert.equal(letter.key, 'tenant-a:hostile-avro-1');
    assertUndisturbed();
  });

  it('dead-letters values a backtracking pattern would freeze on, without a rebalance', async () => {
    // 27 characters took V8 1.6 s, doubling per character: these 20 would take years.
    const frozen = Array.from({ length: 20 }, (_, index) =>
      jsonUpdate(`backtracking-${index}`, { firstName: `${'a'.repeat(60 + index)}b` }),
    );
    const matching = jsonUpdate('after-backtracking', { firstName: 'aaaa' });
    await fixture.publishRaw([
      ...frozen.map((value, index) => ({ key: `tenant-a:backtracking-${index}`, value })),
      { key: 'tenant-a:after-backtracking', value: matching },
    ]);

    const row = await waitFor('the value behind the backtracking ones applied', () =>
      fixture.customer('tenant-a', 'after-backtracking'),
    );
    assert.equal(row.first_name, 'aaaa');
    for (const value of frozen) {
      const letter = await waitFor('a value failing the pattern dead-lettered', () =>
        letterOf(value),
      );
      assert.equal(letter.headers['error.code'], 'schema.mismatch');
      assert.match(letter.headers['error.message'] ?? '', /\/data\/firstName/);
    }
    assertUndisturbed();
  });

  it('dead-letters strings that are not UTF-8, in Avro and in JSON Schema wire format', async () => {
    const avro = Buffer.from(await avroUpdate('not-utf8-avro', { firstName: 'Zoë' }));
    avro[avro.indexOf(Buffer.from('ë'))] = 0xff;
    const json = jsonUpdate('not-utf8-json', { lastName: 'Zoë' });
    json[json.indexOf(Buffer.from('ë'))] = 0xff;
    await fixture.publishRaw([
      { key: 'tenant-a:not-utf8-avro', value: avro },
      { key: 'tenant-a:not-utf8-json', value: json },
    ]);

    const fromAvro = await waitFor('the Avro value dead-lettered', () => letterOf(avro));
    assert.equal(fromAvro.headers['error.code'], 'decode.malformed');
    assert.equal(fromAvro.headers['error.path'], 'data.firstName');
    const fromJson = await waitFor('the JSON Schema value dead-lettered', () => letterOf(json));
    assert.equal(fromJson.headers['error.code'], 'decode.malformed');
    assert.equal(await fixture.customer('tenant-a', 'not-utf8-avro'), undefined);
    assertUndisturbed();
  });
});
