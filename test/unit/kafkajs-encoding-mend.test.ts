import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import fc from 'fast-check';
import {
  installedKafkajsDirectory,
  KafkajsMendError,
  MENDED_KAFKAJS_FILES,
  MENDED_KAFKAJS_VERSION,
  mendKafkajsSource,
  verifyKafkajsMend,
  verifyNativeCrc32c,
} from '../../src/messaging/kafka/kafkajs-encoding-mend.ts';
import {
  kafkajsCopies,
  type ProducedMessage,
  produceRequestBytes,
} from '../support/kafkajs-copies.ts';

const kafkajsDirectory = installedKafkajsDirectory();
const projectManifest = JSON.parse(
  readFileSync(new URL('../../package.json', import.meta.url), 'utf8'),
) as { dependencies: Record<string, string> };

const { released, mended, remove } = kafkajsCopies();
after(remove);

const text = fc.string({ unit: 'grapheme', maxLength: 60 });
const bytes = fc.uint8Array({ maxLength: 3_000 }).map((array) => Buffer.from(array));
const message = (partitions: number) =>
  fc.record({
    key: fc.oneof(text, bytes, fc.constant(null)),
    value: fc.oneof(text, bytes, fc.constant(null)),
    headers: fc.dictionary(
      fc.string({ minLength: 1, maxLength: 12 }),
      fc.oneof(text, bytes, fc.array(text, { minLength: 1, maxLength: 3 })),
      { maxKeys: 4 },
    ),
    // Kafka timestamps are milliseconds as text; deltas beyond 32 bits take kafkajs' Long path.
    timestamp: fc
      .oneof(fc.integer({ min: 0, max: 2 ** 31 }), fc.integer({ min: 0, max: 2 ** 45 }))
      .map((ms) => String(1_764_000_000_000 + ms)),
    partition: fc.integer({ min: 0, max: partitions - 1 }),
  });

describe('the kafkajs encoding mend', () => {
  it('applies to the installed kafkajs, the exact version package.json pins', () => {
    assert.equal(projectManifest.dependencies.kafkajs, MENDED_KAFKAJS_VERSION);
    const installed = JSON.parse(readFileSync(join(kafkajsDirectory, 'package.json'), 'utf8'));
    assert.equal(installed.version, MENDED_KAFKAJS_VERSION);
    verifyKafkajsMend(kafkajsDirectory);
  });

  it('is what this process runs: the preload of every test file mended kafkajs as it loaded', () => {
    const loaded = createRequire(import.meta.url);
    const Encoder = loaded('kafkajs/src/protocol/encoder');
    assert.match(String(Encoder.prototype.writeUVarInt), /this\.ensureAvailable\(5\)/);
    assert.match(String(loaded('kafkajs/src/producer/groupMessagesPerPartition')), /current\.push/);
    assert.match(String(loaded('kafkajs/src/protocol/recordBatch/crc32C')), /=> crc32c\(buffer\)/);
  });

  it('is idempotent', () => {
    for (const file of MENDED_KAFKAJS_FILES) {
      const once = mendKafkajsSource(file, readFileSync(join(kafkajsDirectory, file), 'utf8'));
      assert.notEqual(once, readFileSync(join(kafkajsDirectory, file), 'utf8'));
      assert.equal(mendKafkajsSource(file, once), once);
    }
  });

  it('produces the same bytes as kafkajs released, for any messages', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc
          .integer({ min: 1, max: 12 })
          .chain((partitions) =>
            fc.tuple(
              fc.constant(partitions),
              fc.array(message(partitions), { minLength: 1, maxLength: 120 }),
            ),
          ),
        async ([partitions, messages]) => {
          assert.deepEqual(
            await produceRequestBytes(mended, messages, partitions),
            await produceRequestBytes(released, messages, partitions),
          );
        },
      ),
      { numRuns: 60 },
    );
  });

  it('produces the same bytes for a relay-sized send (1,500 messages, 6 partitions)', async () => {
    const value = Buffer.from(JSON.stringify({ customerId: 'CUST-1', note: 'é'.repeat(400) }));
    const messages: ProducedMessage[] = Array.from({ length: 1_500 }, (_, index) => ({
      key: `tenant-${index % 7}:CUST-${100_000 + index}`,
      value,
      headers: { 'event.id': `event-${index}`, 'event.type': 'customer.updated' },
      timestamp: String(1_764_000_000_000 + index),
      partition: (index * 7) % 6,
    }));
    assert.deepEqual(
      await produceRequestBytes(mended, messages, 6),
      await produceRequestBytes(released, messages, 6),
    );
  });

  it('writes varints and varlongs as kafkajs released does, at every edge', () => {
    const Released = released('./src/protocol/encoder');
    const Mended = mended('./src/protocol/encoder');
    const Long = released('./src/utils/long');
    const edges = [0, 1, -1, 63, 64, -64, -65, 2 ** 30, -(2 ** 30), 2 ** 31 - 1, -(2 ** 31)];
    const longs = [2 ** 31, -(2 ** 31) - 1, 2 ** 45, -(2 ** 52), Number.MAX_SAFE_INTEGER];
    for (const value of [...edges, ...longs, -0, Long.fromString('-9223372036854775808')]) {
      assert.deepEqual(
        new Mended().writeVarLong(value).buffer,
        new Released().writeVarLong(value).buffer,
        `varlong ${value}`,
      );
      assert.equal(Mended.sizeOfVarLong(value), Released.sizeOfVarLong(value), `size ${value}`);
    }
    for (const value of [...edges, 2 ** 32 - 1, 2 ** 32, 2 ** 40]) {
      assert.deepEqual(
        new Mended().writeUVarInt(value).writeVarInt(value).buffer,
        new Released().writeUVarInt(value).writeVarInt(value).buffer,
        `varint ${value}`,
      );
    }
  });

  it('computes the record batch CRC32C natively, the same checksum, on views too', () => {
    const releasedCrc = released('./src/protocol/recordBatch/crc32C');
    const mendedCrc = mended('./src/protocol/recordBatch/crc32C');
    fc.assert(
      fc.property(bytes, fc.nat(40), (data, start) => {
        const view = data.subarray(Math.min(start, data.length));
        assert.equal(mendedCrc(view), releasedCrc(view));
        assert.equal(mendedCrc(data), releasedCrc(data));
      }),
    );
    assert.equal(mendedCrc(Buffer.from('123456789')), 0xe3069283); // the CRC-32C check value
  });

  it('refuses, in one line, a native CRC32C that does not load or computes another checksum', () => {
    verifyNativeCrc32c();
    const oneLine = (pattern: RegExp) => (error: unknown) =>
      error instanceof KafkajsMendError &&
      !error.message.includes('\n') &&
      pattern.test(error.message);
    assert.throws(
      () =>
        verifyNativeCrc32c(() => {
          throw new Error('Cannot find module @node-rs/crc32-linux-x64-gnu\nRequire stack: ...');
        }),
      oneLine(/does not load on .*Cannot find module @node-rs\/crc32-linux-x64-gnu\);/),
    );
    assert.throws(() => verifyNativeCrc32c(() => () => 0), oneLine(/gives 0 for the check input/));
  });

  describe('a kafkajs the mend was not written for', () => {
    const copy = mkdtempSync(join(tmpdir(), 'customer-sync-kafkajs-other-'));
    after(() => rmSync(copy, { recursive: true, force: true }));

    it('refuses to start, in one line naming the version and the file', () => {
      cpSync(kafkajsDirectory, copy, { recursive: true });
      const file = join(copy, 'src', 'protocol', 'encoder.js');
      writeFileSync(
        file,
        readFileSync(file, 'utf8').replace('writeUVarInt(value) {', 'writeUVarInt(number) {'),
      );
      const manifest = join(copy, 'package.json');
      writeFileSync(
        manifest,
        readFileSync(manifest, 'utf8').replace(/"version": "[^"]+"/, '"version": "2.3.0"'),
      );
      assert.throws(
        () => verifyKafkajsMend(copy),
        (error: unknown) =>
          error instanceof KafkajsMendError &&
          !error.message.includes('\n') &&
          /kafkajs 2\.3\.0 is not the version/.test(error.message) &&
          /1 of its 5 fixes do not apply to src\/protocol\/encoder\.js/.test(error.message),
      );
      assert.throws(
        () => mendKafkajsSource('src/protocol/encoder.js', readFileSync(file, 'utf8')),
        KafkajsMendError,
      );
    });
  });
});
