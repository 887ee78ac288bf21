import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KafkaMessage } from 'kafkajs';
import { deadLetterHeaders } from '../../src/messaging/dead-letters/dead-letter-publisher.ts';
import {
  originalMessageOf,
  readDeadLetter,
  redriveMessage,
} from '../../src/messaging/dead-letters/dead-letter-records.ts';

const original: KafkaMessage = {
  key: Buffer.from('tenant-a:c-1'),
  value: Buffer.from('{"eventId":"…"}'),
  headers: { traceparent: '00-abc-def-01' },
  offset: '41',
  timestamp: '1772355600000',
  attributes: 0,
};

/** A dead letter as the service writes it (dead-letter-publisher.ts), as read back from Kafka. */
function deadLetter(
  headers = deadLetterHeaders(
    {
      message: original,
      topic: 'customer.update.requested',
      partition: 2,
      failure: {
        code: 'tenant.unknown',
        message: 'tenantId is not a configured tenant',
        path: 'tenantId',
      },
    },
    { serviceVersion: '1.2.3', now: () => new Date('2026-03-01T10:00:00Z') },
  ),
): KafkaMessage {
  return {
    key: original.key,
    value: original.value,
    attributes: 0,
    offset: '7',
    timestamp: '1772359200000',
    headers,
  };
}

describe('dead letters read back and redriven', () => {
  it('reads the error headers and tells the original headers apart', () => {
    const letter = readDeadLetter('customer.update.requested.dlq', 1, deadLetter());
    assert.equal(letter.errorCode, 'tenant.unknown');
    assert.equal(letter.errorPath, 'tenantId');
    assert.deepEqual(letter.original, {
      topic: 'customer.update.requested',
      partition: 2,
      offset: '41',
      timestamp: '1772355600000',
    });
    assert.equal(letter.failedAt, '2026-03-01T10:00:00.000Z');
    assert.deepEqual(Object.keys(letter.originalHeaders), ['traceparent']);
    assert.deepEqual(letter.position, {
      topic: 'customer.update.requested.dlq',
      partition: 1,
      offset: '7',
    });
  });

  it('sends back the original key, value and headers, plus what records the redrive', () => {
    const letter = readDeadLetter('customer.update.requested.dlq', 1, deadLetter());
    const message = redriveMessage(letter, {
      at: new Date('2026-03-02T08:00:00Z'),
      runId: '6f1c0d52-1b5a-4a63-9f53-0d3d2b1f8f10',
    });
    assert.deepEqual(message.key, original.key);
    assert.deepEqual(message.value, original.value);
    assert.deepEqual(message.headers, {
      traceparent: '00-abc-def-01',
      'redrive.source': 'customer.update.requested.dlq:1:7',
      'redrive.at': '2026-03-02T08:00:00.000Z',
      'redrive.run-id': '6f1c0d52-1b5a-4a63-9f53-0d3d2b1f8f10',
      'redrive.count': '1',
    });
  });

  it('counts how often a message went round', () => {
    // A message redriven twice before fails again: the service dead-letters it once more.
    const redrivenTwice: KafkaMessage = {
      ...original,
      headers: { ...original.headers, 'redrive.count': Buffer.from('2') },
    };
    const again = deadLetter(
      deadLetterHeaders(
        {
          message: redrivenTwice,
          topic: 'customer.update.requested',
          partition: 2,
          failure: { code: 'tenant.unknown', message: 'tenantId is not a configured tenant' },
        },
        { serviceVersion: '1.2.3', now: () => new Date() },
      ),
    );
    const message = redriveMessage(readDeadLetter('dlq', 0, again), { at: new Date(), runId: 'r' });
    assert.equal(message.headers?.['redrive.count'], '3');
  });

  it("keeps a producer's headers under the service's names out of the letter's reasons", () => {
    const forged: KafkaMessage = {
      ...original,
      headers: {
        traceparent: '00-abc-def-01',
        'error.code': 'forged.code',
        'error.path': 'data.firstName',
        'error.message': 'a reason the producer made up',
        'original.offset': '999',
        'failed.at': '1999-01-01T00:00:00Z',
        'service.version': '0.0.0',
        'replay.run-id': 'forged-run',
        'redrive.source': 'forged:0:0',
      },
    };
    const headers = deadLetterHeaders(
      {
        message: forged,
        topic: 'customer.update.requested',
        partition: 2,
        failure: { code: 'decode.malformed', message: 'the value is not JSON' },
      },
      { serviceVersion: '1.2.3', now: () => new Date('2026-03-01T10:00:00Z') },
    );
    const letter = readDeadLetter('dlq', 0, deadLetter(headers));
    assert.equal(letter.errorCode, 'decode.malformed');
    assert.equal(letter.errorMessage, 'the value is not JSON');
    assert.equal(letter.errorPath, undefined, 'the service set no path; the forged one is not it');
    assert.equal(letter.original?.offset, '41');
    assert.equal(letter.failedAt, '2026-03-01T10:00:00.000Z');
    assert.equal(letter.serviceVersion, '1.2.3');
    assert.equal(letter.replayRunId, undefined);
    // Nothing the producer sent is lost: a redrive restores the message exactly.
    assert.deepEqual(letter.originalHeaders, forged.headers);
    const message = redriveMessage(letter, { at: new Date(), runId: 'r' });
    assert.equal(message.headers?.['error.path'], 'data.firstName');
    assert.equal(message.headers?.['redrive.source'], 'dlq:0:7');
  });

  it('gives the decoder the original message as the service first saw it', () => {
    const letter = readDeadLetter('dlq', 1, deadLetter());
    const message = originalMessageOf(letter);
    assert.equal(message.offset, '41');
    assert.deepEqual(message.key, original.key);
    assert.deepEqual(Object.keys(message.headers ?? {}), ['traceparent']);
  });
});
