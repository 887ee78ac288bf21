import assert from 'node:assert/strict';
import { describe, it, mock } from 'node:test';
import { createWakeUpCall } from '../../src/application/wake-up-call.ts';

describe('wake-up call', () => {
  it('idles until its time is up when nobody wakes it', async () => {
    mock.timers.enable({ apis: ['setTimeout'] });
    try {
      const call = createWakeUpCall();
      let done = false;
      const idle = call.idle(1_000).then(() => {
        done = true;
      });
      mock.timers.tick(999);
      await Promise.resolve();
      assert.equal(done, false);
      mock.timers.tick(1);
      await idle;
      assert.equal(done, true);
    } finally {
      mock.timers.reset();
    }
  });

  it('returns at once when woken while idle', async () => {
    const call = createWakeUpCall();
    const idle = call.idle(60_000);
    call.wake();
    await idle; // a wake that did not end it would leave the test waiting a minute
  });

  it('keeps a wake that came while the loop was busy for the next idle, once', async () => {
    mock.timers.enable({ apis: ['setTimeout'] });
    try {
      const call = createWakeUpCall();
      call.wake();
      call.wake();
      await call.idle(60_000); // the wake from before: at once
      let done = false;
      const second = call.idle(1_000).then(() => {
        done = true;
      });
      await Promise.resolve();
      assert.equal(done, false, 'two wakes while busy are one look, not two');
      mock.timers.tick(1_000);
      await second;
    } finally {
      mock.timers.reset();
    }
  });

  it('does not carry a wake that ended an idle over to the next one', async () => {
    mock.timers.enable({ apis: ['setTimeout'] });
    try {
      const call = createWakeUpCall();
      const first = call.idle(60_000);
      call.wake();
      await first;
      let done = false;
      const second = call.idle(1_000).then(() => {
        done = true;
      });
      await Promise.resolve();
      assert.equal(done, false);
      mock.timers.tick(1_000);
      await second;
    } finally {
      mock.timers.reset();
    }
  });
});
