import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { captureLogs } from '../support/log-capture.ts';

describe('the logger (SPEC §8: PII redacted)', () => {
  it('redacts personal data wherever a careless log call puts it', () => {
    const { logger, text } = captureLogs();
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

  it('redacts customer fields at any depth, state and timezone included', () => {
    const { logger, text } = captureLogs();
    let nested: Record<string, unknown> = {
      state: 'CA',
      timezone: 'America/Los_Angeles',
      first_name: 'Deeply-Nested-Ann',
      externalId: 'c-9',
    };
    for (let level = 0; level < 7; level++) nested = { [`level${level}`]: nested };
    logger.info({ nested, list: [[{ email: 'listed@example.com' }]] }, 'deep');
    const output = text();
    for (const secret of ['Deeply-Nested-Ann', 'America/Los_Angeles', '"CA"', 'listed@example']) {
      assert.ok(!output.includes(secret), `${secret} leaked: ${output}`);
    }
    assert.ok(output.includes('c-9'));
  });

  it('writes nothing below the depth it walks', () => {
    const { logger, text } = captureLogs();
    let nested: Record<string, unknown> = { note: 'hidden-by-depth' };
    for (let level = 0; level < 20; level++) nested = { [`l${level}`]: nested };
    logger.info({ nested }, 'too deep');
    assert.ok(!text().includes('hidden-by-depth'));
    assert.ok(text().includes('[too deep]'));
  });

  it('writes any error, anywhere in the record, with the one serializer', () => {
    const { logger, text } = captureLogs();
    const driverError = Object.assign(
      new Error('invalid input syntax for type uuid: "ann@example.com"'),
      {
        name: 'PostgresError',
        code: '22P02',
        detail: 'Key (email)=(ann@example.com) already exists.',
        parameters: ['Ann', 'ann@example.com'],
        query: "insert into customers values ('Ann')",
        constraint_name: 'customers_email_key',
      },
    );
    const wrapped = new Error(
      'Failed query: insert into customers values ($1)\nparams: Ann,ann@example.com',
      {
        cause: driverError,
      },
    );
    wrapped.name = 'DrizzleQueryError';
    logger.warn({ failure: wrapped, deeper: { attempt: { error: driverError } } }, 'apply failed');
    logger.error(driverError);
    const output = text();
    for (const secret of ['Ann', 'ann@example.com', 'insert into']) {
      assert.ok(!output.includes(secret), `${secret} leaked: ${output}`);
    }
    const [first, second] = output
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    assert.deepEqual(first.failure, {
      type: 'DrizzleQueryError',
      message: 'Failed query',
      cause: {
        type: 'PostgresError',
        code: '22P02',
        sqlState: '22P02',
        message: 'invalid input syntax for type uuid: "…"',
        constraint: 'customers_email_key',
      },
    });
    assert.equal(first.deeper.attempt.error.sqlState, '22P02');
    assert.equal(second.msg, 'invalid input syntax for type uuid: "…"');
    assert.equal(second.err.type, 'PostgresError');
  });

  it("redacts a child logger's bindings too", () => {
    const { logger, text } = captureLogs();
    logger.child({ email: 'bound@example.com', topic: 't' }).info('bound');
    assert.ok(!text().includes('bound@example.com'));
    assert.ok(text().includes('"topic":"t"'));
  });

  it('writes bytes as their length: a Kafka value is never printed', () => {
    const { logger, text } = captureLogs();
    logger.info(
      { message: { key: Buffer.from('k'), body: Buffer.from('{"firstName":"Bytes"}') } },
      'm',
    );
    assert.ok(!text().includes('Bytes'));
    assert.ok(text().includes('[21 bytes]'));
  });

  it('writes JSON lines with an ISO timestamp and a textual level', () => {
    const { logger, text } = captureLogs();
    logger.warn({ code: 'x' }, 'hello');
    const line = JSON.parse(text()) as { level: string; time: string; msg: string };
    assert.equal(line.level, 'warn');
    assert.match(line.time, /^\d{4}-\d\d-\d\dT/);
    assert.equal(line.msg, 'hello');
  });
});
