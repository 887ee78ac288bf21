import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KafkaMessage } from 'kafkajs';
import type { AppliedBatch } from '../../src/application/apply-update-batch.ts';
import type { CustomerUpdateRequest } from '../../src/contracts/customer-update-requested.ts';
import { CustomerSyncError } from '../../src/errors.ts';
import { createJsonUpdateRequestDecoder } from '../../src/messaging/consumer/decode-update-request.ts';
import { createUpdateChunkProcessor } from '../../src/messaging/consumer/update-chunk-processor.ts';
import type { DeadLetter } from '../../src/messaging/dead-letters/dead-letter-publisher.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { createMetrics } from '../../src/observability/metrics.ts';
import { anUpdateRequest } from '../support/update-request-builder.ts';

function message(offset: number, value: unknown): KafkaMessage {
  return {
    key: null,
    value: Buffer.from(JSON.stringify(value)),
    offset: String(offset),
    timestamp: '0',
    attributes: 0,
    headers: {},
  } as KafkaMessage;
}

/** A database that rejects any batch with the poison event in it, for its content. */
function applyRejectingPoison(poisonEventId: string, onApply: () => void = () => {}) {
  return async (requests: CustomerUpdateRequest[]): Promise<AppliedBatch> => {
    onApply();
    if (requests.some((request) => request.eventId === poisonEventId))
      throw Object.assign(new Error('duplicate key value'), { code: '23505' });
    return { outcomes: requests.map(() => ({ kind: 'unchanged' as const })), announced: 0 };
  };
}

describe('one chunk through the apply path, abandoned by its caller', () => {
  const good = anUpdateRequest().withExternalId('c-1').build();
  const poison = anUpdateRequest().withExternalId('c-2').build();
  const messages = [message(0, good), message(1, poison)];
  const log = createLogger({ level: 'silent' });

  function processorWith(applyBatch: ReturnType<typeof applyRejectingPoison>) {
    const published: DeadLetter[] = [];
    const processChunk = createUpdateChunkProcessor({
      decoder: createJsonUpdateRequestDecoder({ maxMessageBytes: 1_000_000 }),
      applyBatch,
      deadLetters: { publish: async (letters) => void published.push(...letters) },
      metrics: createMetrics(),
    });
    return { processChunk, published };
  }

  it('dead-letters the event the database rejects when nobody gave up on the attempt', async () => {
    const { processChunk, published } = processorWith(applyRejectingPoison(String(poison.eventId)));
    const outcomes = await processChunk({ topic: 't', partition: 0, messages, log });
    assert.deepEqual(
      outcomes.map((outcome) => outcome.kind),
      ['unchanged', 'dead-lettered'],
    );
    assert.deepEqual(
      published.map((letter) => letter.message.offset),
      ['1'],
    );
  });

  it('leaves the dead letters to the retry once the attempt was abandoned', async () => {
    const abandon = new AbortController();
    const abandoned = new CustomerSyncError('attempt.timed_out', 'abandoned', { canRetry: true });
    // The deadline passes while the poison is being isolated.
    const { processChunk, published } = processorWith(
      applyRejectingPoison(String(poison.eventId), () => abandon.abort(abandoned)),
    );
    await assert.rejects(
      processChunk({ topic: 't', partition: 0, messages, log, signal: abandon.signal }),
      abandoned,
    );
    assert.deepEqual(published, []);
  });
});
