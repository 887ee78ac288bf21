import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createAbortableStartUp } from '../../src/start-up/abortable-start-up.ts';

const never = () => new Promise<never>(() => {});

describe('a start-up that a stop request cuts short (SPEC §4.9)', () => {
  it('passes a step through when no stop is requested', async () => {
    const startUp = createAbortableStartUp(new AbortController().signal);
    assert.equal(await startUp.step(Promise.resolve(42)), 42);
    await assert.rejects(startUp.step(Promise.reject(new Error('no broker'))), /no broker/);
  });

  it('gives up a step that is still waiting as soon as the stop is requested', async () => {
    const stopRequested = new AbortController();
    const startUp = createAbortableStartUp(stopRequested.signal);
    const waiting = startUp.step(never());
    stopRequested.abort();
    await assert.rejects(waiting, { code: 'service.start_aborted', canRetry: false });
    await assert.rejects(startUp.step(Promise.resolve(1)), { code: 'service.start_aborted' });
  });

  it('takes no notice of a step given up on that fails later', async () => {
    const stopRequested = new AbortController();
    const startUp = createAbortableStartUp(stopRequested.signal);
    const failLater: Array<(error: Error) => void> = [];
    const failing = () => new Promise((_, reject) => failLater.push(reject));
    const waiting = startUp.step(failing());
    stopRequested.abort();
    await assert.rejects(waiting, { code: 'service.start_aborted' });
    await assert.rejects(startUp.step(failing()), { code: 'service.start_aborted' });

    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    for (const fail of failLater) fail(new Error('connect failed after all'));
    await new Promise((resolve) => setImmediate(resolve));
    process.off('unhandledRejection', onUnhandled);
    assert.deepEqual(unhandled, []);
  });

  it('stops what has started, last started first, and the rest when one fails to stop', async () => {
    const startUp = createAbortableStartUp();
    const stopped: string[] = [];
    startUp.started(() => stopped.push('database'));
    startUp.started(async () => {
      stopped.push('producer');
      throw new Error('never connected');
    });
    startUp.started((deadline) => stopped.push(`relay by ${deadline}`));
    await startUp.rollBack(1_000);
    assert.deepEqual(stopped, ['relay by 1000', 'producer', 'database']);
    await startUp.rollBack(2_000);
    assert.equal(stopped.length, 3, 'each is stopped once');
  });
});
