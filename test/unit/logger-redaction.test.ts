import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { createLogger } from '../../src/observability/logger.ts';

function capture() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  return { logger: createLogger({ level: 'info' }, stream), text: () => lines.join('') };
}

describe('the logger (SPEC §8: PII redacted)', () => {
  it('redacts personal data wherever a careless log call puts it', () => {
    const { logger, text } = capture();
    logger.info(
      {
        customer: {
          firstName: 'Ann',
          lastName: 'Lee',
          email: 'ann@example.com',
          phone: '+14155550132',
          externalId: 'c-1',
        },
        row: {
          snapshot: {
            birthday: '1985-06-15',
            ssnLast4: '1234',
            address1: '1 Main St',
            zip: '94102',
          },
        },
        data: { metadata: { employer: 'Acme' } },
      },
      'oops',
    );
    const output = text();
    for (const secret of [
      'Ann',
      'Lee',
      'ann@example.com',
      '4155550132',
      '1985-06-15',
      '1234',
      'Main St',
      '94102',
      'Acme',
    ]) {
      assert.ok(!output.includes(secret), `${secret} leaked`);
    }
    assert.ok(output.includes('c-1'), 'identifiers that are not personal data stay');
  });

  it('writes JSON lines with an ISO timestamp and a textual level', () => {
    const { logger, text } = capture();
    logger.warn({ code: 'x' }, 'hello');
    const line = JSON.parse(text()) as { level: string; time: string; msg: string };
    assert.equal(line.level, 'warn');
    assert.match(line.time, /^\d{4}-\d\d-\d\dT/);
    assert.equal(line.msg, 'hello');
  });
});
