/**
 * The lending-system client against the simulator, both real HTTP (SPEC §6): what each kind of
 * answer becomes, and the simulator as the `customer-sync lending-sim` command runs it.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { before, describe, it } from 'node:test';
import {
  ENRICHMENT_FAILURE_CODES,
  type LendingSystem,
  LendingSystemError,
} from '../../src/application/lending-system.ts';
import { createLendingSystemClient } from '../../src/enrichment/lending-system-client.ts';
import {
  startTestLendingSimulator,
  type TestLendingSimulator,
} from '../support/lending-simulator-fixture.ts';
import { startCli } from '../support/run-cli.ts';
import { waitFor } from '../support/wait-for.ts';

const TOKEN = 'client-test-token';

async function failureOf(call: Promise<unknown>): Promise<LendingSystemError> {
  try {
    await call;
  } catch (error) {
    assert.ok(error instanceof LendingSystemError, String(error));
    return error;
  }
  assert.fail('expected the call to fail');
}

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('the lending-system client against the simulator', () => {
  let lending: TestLendingSimulator;
  let client: LendingSystem;
  const calls: Array<{ operation: string; outcome: string }> = [];
  let target: { baseUrl: string; tenantId: string };

  before(async () => {
    lending = await startTestLendingSimulator({ token: TOKEN });
    client = createLendingSystemClient({
      timeoutMs: 1_000,
      tokenFor: (tenantId) => (tenantId === 'tenant-a' ? TOKEN : 'wrong-token'),
      onCall: ({ operation, outcome }) => calls.push({ operation, outcome }),
    });
    target = { baseUrl: lending.url, tenantId: 'tenant-a' };
  });

  it('finds a customer, validated and normalised, and lists their loans', async () => {
    const customer = await client.findCustomer(target, { by: 'externalId', externalId: 'c-1' });
    assert.equal(customer?.externalId, 'c-1');
    assert.match(customer?.values.phone ?? '', /^\+1\d{10}$/);
    assert.equal(
      customer?.values.email,
      customer?.values.email?.replace(/@.*/, (d) => d.toLowerCase()),
    );
    const loans = await client.listLoans(target, 'c-1');
    assert.deepEqual(
      loans.map((loan) => loan.id),
      (await lending.loans('tenant-a', 'c-1')).map((loan) => loan.id),
    );
    const byReference = await client.findCustomer(target, {
      by: 'loanReference',
      loanReferenceId: loans[0]?.reference ?? '',
    });
    assert.equal(byReference?.externalId, 'c-1');
    assert.deepEqual(
      calls.slice(-3).map((call) => call.outcome),
      ['200', '200', '200'],
    );
  });

  it('takes a base URL with a path prefix', async () => {
    const prefixed = createLendingSystemClient({ timeoutMs: 1_000, tokenFor: () => TOKEN });
    const before = lending.stats().calls.other;
    const answer = await prefixed.findCustomer(
      { baseUrl: `${lending.url}/api/v2`, tenantId: 'tenant-a' },
      { by: 'externalId', externalId: 'c-1' },
    );
    // The simulator serves no /api/v2: the request reached /api/v2/tenants/…, so the prefix was kept.
    assert.equal(answer, undefined);
    assert.equal(lending.stats().calls.other, before + 1);
  });

  it('reads 404 as "no data"', async () => {
    assert.equal(
      await client.findCustomer(target, { by: 'externalId', externalId: 'unknown-1' }),
      undefined,
    );
    assert.deepEqual(await client.listLoans(target, 'unknown-1'), []);
    assert.equal(
      await client.findCustomer(target, { by: 'loanReference', loanReferenceId: 'unknown-1~L1' }),
      undefined,
    );
  });

  it('turns each failure into a LendingSystemError that says whether a retry can help', async () => {
    await lending.setFaults({ rateLimitRate: 1, retryAfterSeconds: 2 });
    const limited = await failureOf(
      client.findCustomer(target, { by: 'externalId', externalId: 'c-1' }),
    );
    assert.equal(limited.code, ENRICHMENT_FAILURE_CODES.rateLimited);
    assert.equal(limited.canRetry, true);
    assert.equal(limited.retryAfterMs, 2_000);

    await lending.setFaults({ rateLimitRate: 0, errorRate: 1 });
    const failing = await failureOf(client.listLoans(target, 'c-1'));
    assert.equal(failing.code, ENRICHMENT_FAILURE_CODES.unavailable);
    assert.equal(failing.canRetry, true);

    await lending.setFaults({ errorRate: 0, timeoutRate: 1 });
    const slow = await failureOf(
      client.findCustomer(target, { by: 'externalId', externalId: 'c-1' }),
    );
    assert.equal(slow.code, ENRICHMENT_FAILURE_CODES.timeout);
    assert.equal(slow.canRetry, true);

    const cancelled = new AbortController();
    const pending = client.findCustomer(
      target,
      { by: 'externalId', externalId: 'c-1' },
      cancelled.signal,
    );
    cancelled.abort();
    assert.equal((await failureOf(pending)).code, ENRICHMENT_FAILURE_CODES.aborted);
    await lending.setFaults({ timeoutRate: 0 });

    const refused = await failureOf(
      client.findCustomer(
        { baseUrl: `http://127.0.0.1:${await closedPort()}`, tenantId: 'tenant-a' },
        { by: 'externalId', externalId: 'c-1' },
      ),
    );
    assert.equal(refused.code, ENRICHMENT_FAILURE_CODES.unavailable);
    assert.equal(refused.canRetry, true);

    const unauthorized = await failureOf(
      client.findCustomer(
        { ...target, tenantId: 'tenant-b' },
        { by: 'externalId', externalId: 'c-1' },
      ),
    );
    assert.equal(unauthorized.code, ENRICHMENT_FAILURE_CODES.unauthorized);
    assert.equal(unauthorized.canRetry, false);
  });

  it('refuses answers that break the contract, without retrying them', async () => {
    await lending.override('tenant-a', 'broken-customer', { customer: { firstName: 'no id' } });
    const customer = await failureOf(
      client.findCustomer(target, { by: 'externalId', externalId: 'broken-customer' }),
    );
    assert.equal(customer.code, ENRICHMENT_FAILURE_CODES.invalidResponse);
    assert.equal(customer.canRetry, false);

    await lending.override('tenant-a', 'broken-loans', {
      customer: { externalId: 'broken-loans' },
      loans: [{ id: 1, status: 'open', principal: 12.5 }],
    });
    const loans = await failureOf(client.listLoans(target, 'broken-loans'));
    assert.equal(loans.code, ENRICHMENT_FAILURE_CODES.invalidResponse);
  });

  it('drops a customer field that breaks its rule and keeps the others', async () => {
    await lending.override('tenant-a', 'bad-phone', {
      customer: { externalId: 'bad-phone', firstName: 'Ann', phone: '12' },
    });
    const customer = await client.findCustomer(target, {
      by: 'externalId',
      externalId: 'bad-phone',
    });
    assert.deepEqual(customer?.values, { firstName: 'Ann' });
    assert.deepEqual(customer?.rejectedFields, ['phone']);
  });

  it('never puts the token or the customer in an error message', async () => {
    await lending.setFaults({ errorRate: 1 });
    const failure = await failureOf(
      client.findCustomer(target, { by: 'externalId', externalId: 'secret-customer-id' }),
    );
    await lending.setFaults({ errorRate: 0 });
    assert.ok(!failure.message.includes(TOKEN));
    assert.ok(!failure.message.includes('secret-customer-id'));
  });
});

describe('customer-sync lending-sim', () => {
  it('serves the contract and /healthz with nothing but HTTP_PORT and LOG_LEVEL set, and stops on SIGTERM', async () => {
    const simulator = startCli(['lending-sim', '--port', '0', '--seed', 'cli'], {
      env: { HTTP_PORT: '8090', LOG_LEVEL: 'info' },
    });
    const port = await waitFor('the simulator to listen', () => {
      const line = simulator
        .stdout()
        .split('\n')
        .find((text) => text.includes('lending simulator listening'));
      return line ? (JSON.parse(line) as { port: number }).port : undefined;
    });
    const health = await fetch(`http://127.0.0.1:${port}/healthz`);
    assert.equal(health.status, 200);
    const customer = await fetch(`http://127.0.0.1:${port}/tenants/t/customers/c-1`);
    assert.equal(customer.status, 200);
    assert.equal(((await customer.json()) as { externalId: string }).externalId, 'c-1');
    simulator.child.kill('SIGTERM');
    const exit = await simulator.exited;
    assert.equal(exit.code, 0, exit.stderr);
  });

  it('refuses a bad option as a usage error', async () => {
    const simulator = startCli(['lending-sim', '--error-rate', '2'], { env: {} });
    const exit = await simulator.exited;
    assert.equal(exit.code, 2);
    assert.match(exit.stderr, /--error-rate must be a number from 0 to 1/);
  });
});
