/**
 * The lag sampler's hold on its admin client. A request that outlived a failed read, or a read
 * still running at close(), used to reconnect the client after its disconnect: a socket that
 * kept the stopped service alive until its shutdown deadline (exit 1). The real thing is in
 * test/integration/dev-command.test.ts; here the order of calls, with an admin that records it.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Admin } from 'kafkajs';
import { createConsumerLagSampler } from '../../src/messaging/consumer/consumer-lag-sampler.ts';
import { createConsumerProgress } from '../../src/observability/consumer-progress.ts';
import { createMetrics } from '../../src/observability/metrics.ts';

const TOPIC = 'requests';

/** An admin whose two reads end when the test says, and which records what happened when. */
function recordingAdmin() {
  const calls: string[] = [];
  const pending = new Map<
    string,
    { resolve: (value: unknown) => void; reject: (e: Error) => void }
  >();
  const request = (name: string) =>
    new Promise((resolve, reject) => {
      calls.push(`${name} started`);
      pending.set(name, {
        resolve: (value) => {
          calls.push(`${name} answered`);
          resolve(value);
        },
        reject: (error) => {
          calls.push(`${name} failed`);
          reject(error);
        },
      });
    });
  const admin = {
    connect: async () => {
      calls.push('connect');
    },
    disconnect: async () => {
      calls.push('disconnect');
    },
    fetchOffsets: () => request('fetchOffsets'),
    fetchTopicOffsets: () => request('fetchTopicOffsets'),
  } as unknown as Admin;
  const settle = async (name: string, how: 'answer' | 'fail') => {
    while (!pending.has(name)) await new Promise((resolve) => setImmediate(resolve));
    const request = pending.get(name);
    pending.delete(name);
    if (how === 'fail') request?.reject(new Error('This server is not the leader'));
    else
      request?.resolve(
        name === 'fetchOffsets'
          ? [{ topic: TOPIC, partitions: [{ partition: 0, offset: '3' }] }]
          : [{ partition: 0, offset: '10', high: '10', low: '0' }],
      );
  };
  return { admin, calls, settle };
}

function samplerOver(admin: Admin) {
  return createConsumerLagSampler({
    admin,
    groupId: 'group',
    topic: TOPIC,
    progress: createConsumerProgress(),
    metrics: createMetrics(),
  });
}

describe('the consumer lag sampler', () => {
  it('disconnects after a failed read only once its other request has ended', async () => {
    const { admin, calls, settle } = recordingAdmin();
    const sampled = samplerOver(admin).sample();
    await settle('fetchTopicOffsets', 'fail');
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.ok(!calls.includes('disconnect'), calls.join(', '));
    await settle('fetchOffsets', 'answer');
    assert.equal(await sampled, false);
    assert.deepEqual(calls.slice(-2), ['fetchOffsets answered', 'disconnect']);
  });

  it('closes after the read in flight, and reads nothing once closed', async () => {
    const { admin, calls, settle } = recordingAdmin();
    const sampler = samplerOver(admin);
    const sampled = sampler.sample();
    const closed = sampler.close();
    await settle('fetchOffsets', 'answer');
    await settle('fetchTopicOffsets', 'answer');
    assert.equal(await sampled, true);
    await closed;
    assert.equal(calls.at(-1), 'disconnect');
    assert.equal(await sampler.sample(), false);
    assert.equal(calls.filter((call) => call === 'connect').length, 1, calls.join(', '));
  });
});
