import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import kafkajs from 'kafkajs';
import type { CustomerUpdated } from '../../src/contracts/customer-updated.ts';
import { type JavaCompression, javaConsume, javaProduce } from '../support/java-kafka-client.ts';
import { startPipelineFixture } from '../support/pipeline-fixture.ts';
import type { ServiceProcess } from '../support/service-process.ts';
import { anUpdateRequest, type WireUpdateRequest } from '../support/update-request-builder.ts';
import { waitFor } from '../support/wait-for.ts';

/**
 * SPEC §4.4: whatever codec a producer uses, its events are applied like uncompressed ones,
 * and what the service writes is read by a client that is not ours. The producer and consumer
 * here are Apache Kafka's Java client (test/support/java-kafka-client.ts).
 */

/** Counts the LZ4 batches this test process decompresses (the recorders read the outputs). */
function countLz4Batches(): () => number {
  const codecs = kafkajs.CompressionCodecs as unknown as Record<
    number,
    () => { compress: unknown; decompress: (buffer: Buffer) => Promise<Buffer> }
  >;
  const lz4 = codecs[kafkajs.CompressionTypes.LZ4] as NonNullable<(typeof codecs)[number]>;
  let batches = 0;
  codecs[kafkajs.CompressionTypes.LZ4] = () => {
    const codec = lz4();
    return {
      ...codec,
      decompress: (buffer) => {
        batches++;
        return codec.decompress(buffer);
      },
    };
  };
  return () => batches;
}

const wire = (request: WireUpdateRequest) => ({
  key: `${String(request.tenantId)}:${String(request.externalId)}`,
  value: JSON.stringify(request),
});

describe('compressed batches, in and out', () => {
  let fixture: Awaited<ReturnType<typeof startPipelineFixture>>;
  let service: ServiceProcess;
  let lz4Batches: () => number;
  before(async () => {
    fixture = await startPipelineFixture({ partitions: 3 });
    // after the fixture's clients registered the codecs, before anything was announced
    lz4Batches = countLz4Batches();
    // KAFKA_COMPRESSION left at its default
    service = await fixture.newService().start();
  });

  for (const codec of ['gzip', 'snappy', 'lz4', 'zstd'] as const satisfies JavaCompression[]) {
    it(`applies events the Java producer sent in ${codec} batches like uncompressed ones`, async () => {
      const requests = Array.from({ length: 60 }, (_, index) =>
        anUpdateRequest()
          .withExternalId(`${codec}-${index}`)
          .withData({ firstName: `Name${index}`, city: 'Reno', metadata: { codec } })
          .build(),
      );
      const poison = { key: `tenant-a:${codec}-poison`, value: '{"not": "an update"' };
      await javaProduce(fixture.topics.updateRequested, codec, [...requests.map(wire), poison]);

      const announced = await waitFor(
        `announcements of the 60 ${codec} events (have ${fixture.updated.messages.length} in all)`,
        () => {
          const causes = new Set(fixture.updated.json<CustomerUpdated>().map((e) => e.causationId));
          return requests.every((request) => causes.has(String(request.eventId))) && causes;
        },
        { timeoutMs: 90_000 },
      );
      assert.ok(announced.size >= 60);
      const row = await fixture.customer('tenant-a', `${codec}-59`);
      assert.equal(row?.first_name, 'Name59');
      assert.deepEqual(row?.metadata, { codec });
      const letter = await waitFor(`the ${codec} poison's dead letter`, () =>
        fixture.deadLetters.messages.find((message) => message.key === poison.key),
      );
      assert.equal(letter.headers['error.code'], 'decode.malformed');
      assert.equal(
        letter.value?.toString('utf8'),
        poison.value,
        'the original bytes, decompressed',
      );
    });
  }

  it('writes customer.updated compressed (KAFKA_COMPRESSION, lz4 by default), and the Java consumer reads every announcement', async () => {
    const expected = fixture.updated.messages.length;
    assert.ok(expected >= 240, `the announcements of the tests above (have ${expected})`);
    const read = await javaConsume(fixture.topics.customerUpdated, expected);
    assert.equal(read.length, expected);
    const ids = new Set(
      read.map((record) => (JSON.parse(record.value) as CustomerUpdated).eventId),
    );
    for (const message of fixture.updated.messages)
      assert.ok(ids.has(message.headers['event.id'] ?? ''), 'every announcement read by Java');
    assert.ok(lz4Batches() > 0, 'the announcements arrived in LZ4 batches');
    assert.equal(service.hasExited(), false);
  });
});

describe('a record batch the service cannot read', () => {
  it('pauses only its partition, says so with the offsets, and keeps retrying; the other partitions go on', async () => {
    const fixture = await startPipelineFixture({ partitions: 3 });
    const service = await fixture.newService().start();
    // A gzip batch that inflates past the 64 MiB any batch may take (a decompression bomb):
    // 65 records of 1 MiB of zeros, ~65 KiB on the wire, in one batch on partition 0.
    const zeros = '0'.repeat(1024 * 1024);
    await javaProduce(
      fixture.topics.updateRequested,
      'gzip',
      Array.from({ length: 65 }, (_, index) => ({
        key: `bomb-${index}`,
        value: zeros,
        partition: 0,
      })),
      {
        // one batch: lingering until the final flush, with room for all of it
        'linger.ms': '60000',
        'batch.size': String(80 * 1024 * 1024),
        'buffer.memory': String(256 * 1024 * 1024),
        'max.request.size': String(2 * 1024 * 1024),
      },
    );
    const behind = anUpdateRequest().withExternalId('behind-the-bomb').build();
    const elsewhere = [1, 2].flatMap((partition) =>
      Array.from({ length: 10 }, (_, index) => ({
        ...wire(anUpdateRequest().withExternalId(`p${partition}-${index}`).build()),
        partition,
      })),
    );
    await javaProduce(fixture.topics.updateRequested, 'lz4', [
      { ...wire(behind), partition: 0 },
      ...elsewhere,
    ]);

    await waitFor(
      `the 20 events of partitions 1 and 2 applied (have ${await fixture.processedCount()})`,
      async () => (await fixture.processedCount()) === 20,
      { timeoutMs: 90_000 },
    );
    const unreadable = () =>
      service.logs.filter(
        (line) => line.msg === 'record batch cannot be read; partition paused, fetching it again',
      );
    const retried = await waitFor(
      `the unreadable batch reported and fetched again (log tail: ${JSON.stringify(service.logs.slice(-3))})`,
      () => unreadable().length >= 2 && unreadable(),
      { timeoutMs: 60_000 },
    );
    assert.equal(retried[0]?.partition, 0);
    assert.equal(retried[0]?.codec, 'gzip');
    assert.equal(retried[0]?.firstOffset, '0');
    assert.equal(retried[0]?.lastOffset, '64');
    assert.match(String(retried[0]?.reason), /more than the 67108864 allowed/);
    // never skipped: the event behind it waits, the service lives on
    assert.equal(await fixture.customer('tenant-a', 'behind-the-bomb'), undefined);
    assert.equal(service.hasExited(), false);
    const running = service.logs.find((line) => line.msg === 'customer-sync is running');
    const metrics = await (await fetch(`http://127.0.0.1:${running?.httpPort}/metrics`)).text();
    assert.match(
      metrics,
      new RegExp(
        `customer_sync_unreadable_record_batches_total\\{topic="${fixture.topics.updateRequested.replaceAll('.', '\\.')}",codec="gzip"\\} [1-9]`,
      ),
    );
  });
});
