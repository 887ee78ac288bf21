import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { MachineCpu, processCpuSeconds } from '../../bench/machine-cpu.ts';

const linux = existsSync('/proc/self/stat');

describe('the benchmark CPU accounting', { skip: !linux && 'reads /proc (Linux only)' }, () => {
  it('reads a process CPU time, and nothing for a process that is not there', () => {
    assert.ok((processCpuSeconds(process.pid) ?? -1) >= 0);
    assert.equal(processCpuSeconds(2 ** 31 - 1), undefined);
  });

  it('charges the CPU this process burns to the benchmark', async () => {
    const cpu = new MachineCpu().start();
    // Burn 0.3 s of CPU time (not of wall time: a loaded machine may lend us less of a core).
    const before = process.cpuUsage();
    const burnt = () => {
      const { user, system } = process.cpuUsage(before);
      return (user + system) / 1e6;
    };
    while (burnt() < 0.3) Math.sqrt(Math.random());
    await delay(300); // past one sample, as a phase is
    const used = cpu.stop();
    const expected = burnt();
    // Clock ticks are 10 ms; timers and the /proc reads themselves add a little.
    assert.ok(Math.abs(used.bench - expected) <= 0.1, `bench ${used.bench} s, burnt ${expected} s`);
    assert.equal(used.service, 0);
  });
});
