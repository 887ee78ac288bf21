import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { deadLetterHeaders } from '../../src/messaging/dead-letters/dead-letter-publisher.ts';

describe('dead-letter headers (SPEC §4.4)', () => {
  it('keep the original headers and add the reason and the origin', () => {
    const headers = deadLetterHeaders(
      {
        topic: 'customer.update.requested',
        partition: 4,
        message: {
          key: Buffer.from('tenant-a:c-1'),
          value: Buffer.from('{bad'),
          offset: '42',
          timestamp: '1767225600000',
          attributes: 0,
          headers: { traceparent: '00-abc-def-01' },
        },
        failure: {
          code: 'data.invalid_field',
          message: 'data.phone is not a valid phone number',
          path: 'data.phone',
        },
      },
      { serviceVersion: '1.2.3', now: () => new Date('2026-01-01T00:00:00.000Z') },
    );
    assert.deepEqual(headers, {
      traceparent: '00-abc-def-01',
      'error.code': 'data.invalid_field',
      'error.message': 'data.phone is not a valid phone number',
      'error.path': 'data.phone',
      'original.topic': 'customer.update.requested',
      'original.partition': '4',
      'original.offset': '42',
      'original.timestamp': '1767225600000',
      'failed.at': '2026-01-01T00:00:00.000Z',
      'service.version': '1.2.3',
    });
  });
});
