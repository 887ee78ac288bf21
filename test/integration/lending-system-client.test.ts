/**
 * The lending-system client against the simulator, both real HTTP (SPEC §6): what each kind of
 * answer becomes, and the simulator as its own program runs it.
 */
import assert from 'node:assert/strict';
import { createServer as createHttpServer } from 'node:http';
import { type AddressInfo, createServer } from 'node:net';
import { before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  type LendingSystem,
  LendingSystemError,
  type LendingSystemTarget,
} from '../../src/application/lending-system.ts';
import { ENRICHMENT_FAILURE_CODES } from '../../src/contracts/error-codes.ts';
import { createLendingSystemClient } from '../../src/enrichment/lending-system-client.ts';
import { createLendingTargets } from '../../src/enrichment/lending-targets.ts';
import { registerCleanup } from '../support/cleanup.ts';
import {
  startTestLendingSimulator,
  type TestLendingSimulator,
} from '../support/lending-simulator-fixture.ts';
import { startCli } from '../support/run-cli.ts';
import { waitFor } from '../support/wait-for.ts';

const TOKEN = 'client-test-token';
const LENDING_SIM = fileURLToPath(
  new URL('../../dev/lending-simulator/lending-sim.ts', import.meta.url),
);

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
  let target: LendingSystemTarget;

  before(async () => {
    lending = await startTestLendingSimulator({ token: TOKEN });
    client = createLendingSystemClient({
      timeoutMs: 1_000,
      onCall: ({ operation, outcome }) => calls.push({ operation, outcome }),
    });
    target = { baseUrl: lending.url, tenantId: 'tenant-a', token: TOKEN };
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
    const prefixed = createLendingSystemClient({ timeoutMs: 1_000 });
    const before = lending.stats().calls.other;
    const answer = await prefixed.findCustomer(
      { baseUrl: `${lending.url}/api/v2`, tenantId: 'tenant-a', token: TOKEN },
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
        { ...target, tenantId: 'tenant-b', token: 'wrong-token' },
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

describe('the lending-system client refusing what it must not send or read (issue 14)', () => {
  it("refuses '.' and '..' as ids before any request, so they cannot rewrite the path", async () => {
    const lending = await startTestLendingSimulator({ token: TOKEN });
    const client = createLendingSystemClient({ timeoutMs: 1_000 });
    const target = { baseUrl: lending.url, tenantId: 't1', token: TOKEN };
    const attempts: Array<Promise<unknown>> = [
      // …/tenants/t1/customers/.. would have been …/tenants/t1/loans, and so on.
      client.listLoans(target, '..'),
      client.listLoans(target, '.'),
      client.findCustomer(target, { by: 'externalId', externalId: '..' }),
      client.findCustomer(target, { by: 'loanReference', loanReferenceId: '..' }),
      client.findCustomer({ ...target, tenantId: '..' }, { by: 'externalId', externalId: 'x' }),
      client.findCustomer({ ...target, tenantId: '.' }, { by: 'externalId', externalId: 'x' }),
    ];
    for (const attempt of attempts) {
      const failure = await failureOf(attempt);
      assert.equal(failure.code, ENRICHMENT_FAILURE_CODES.rejected);
      assert.equal(failure.canRetry, false);
    }
    const { calls } = lending.stats();
    assert.deepEqual(calls, { customer: 0, customer_by_loan_reference: 0, loans: 0, other: 0 });
  });

  it('keeps other characters inside their path segment', async () => {
    const seen: string[] = [];
    const server = createHttpServer((request, response) => {
      seen.push(request.url ?? '');
      response.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    registerCleanup(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const { port } = server.address() as AddressInfo;
    const client = createLendingSystemClient({ timeoutMs: 1_000 });
    await client.findCustomer(
      { baseUrl: `http://127.0.0.1:${port}/base`, tenantId: 't1' },
      { by: 'loanReference', loanReferenceId: '../../x?y#z' },
    );
    assert.deepEqual(seen, ['/base/tenants/t1/loans/by-reference/..%2F..%2Fx%3Fy%23z/customer']);
  });

  it('stops reading an answer as soon as it passes 8 MiB', async () => {
    const offered = 256 * 1024 * 1024;
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    let written = 0;
    let closed = false;
    const server = createHttpServer((_request, response) => {
      // No content-length: the client only learns the size by reading.
      response.writeHead(200, { 'content-type': 'application/json' });
      const writeMore = () => {
        while (written < offered && !closed) {
          written += chunk.length;
          if (!response.write(chunk)) return void response.once('drain', writeMore);
        }
        response.end();
      };
      response.on('close', () => {
        closed = true;
      });
      writeMore();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    registerCleanup(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const { port } = server.address() as AddressInfo;
    const client = createLendingSystemClient({ timeoutMs: 60_000 });
    const failure = await failureOf(
      client.findCustomer(
        { baseUrl: `http://127.0.0.1:${port}`, tenantId: 't1' },
        { by: 'externalId', externalId: 'c-1' },
      ),
    );
    assert.equal(failure.code, ENRICHMENT_FAILURE_CODES.invalidResponse);
    assert.match(failure.message, /larger than 8 MiB/);
    await waitFor('the lending system to see its answer cut off', () => closed);
    assert.ok(
      written < 64 * 1024 * 1024,
      `the client read on past the cap: ${written} of ${offered} bytes were sent`,
    );
  });

  it("sends a tenant's own lending system only that tenant's own token", async () => {
    const DEFAULT_TOKEN = 'default-lending-token-3b1e';
    const shared = await startTestLendingSimulator({ token: DEFAULT_TOKEN });
    const tenantB = await startTestLendingSimulator({ token: TOKEN });
    const tenantC = await startTestLendingSimulator();
    const targets = createLendingTargets({
      defaultUrl: shared.url,
      defaultToken: DEFAULT_TOKEN,
      tenantTokens: new Map([['tenant-b', TOKEN]]),
      allowInsecureHttp: true,
    });
    const client = createLendingSystemClient({ timeoutMs: 1_000 });
    const lookup = { by: 'externalId', externalId: 'c-1' } as const;

    const own = targets.targetFor('tenant-b', tenantB.url);
    assert.equal((await client.findCustomer(own, lookup))?.externalId, 'c-1');

    // tenant-c names its own server and has no token of its own: nothing is sent at all.
    let refusal: unknown;
    try {
      targets.targetFor('tenant-c', tenantC.url);
    } catch (error) {
      refusal = error;
    }
    assert.ok(refusal instanceof LendingSystemError);
    assert.equal(refusal.code, ENRICHMENT_FAILURE_CODES.notConfigured);
    assert.match(refusal.message, /tenant tenant-c has a lending-system URL of its own/);
    assert.ok(!refusal.message.includes(DEFAULT_TOKEN) && !refusal.message.includes(TOKEN));
    assert.equal(tenantC.stats().calls.customer, 0);

    // Tenants named like built-in properties get the default token, not Object's members.
    for (const tenantId of ['constructor', 'toString', '__proto__', 'hasOwnProperty']) {
      const target = targets.targetFor(tenantId, undefined);
      assert.equal(target.token, DEFAULT_TOKEN, tenantId);
      assert.equal((await client.findCustomer(target, lookup))?.externalId, 'c-1');
    }
  });
});

describe('the lending-sim program (dev/lending-simulator/lending-sim.ts)', () => {
  it('serves the contract and /healthz with nothing but HTTP_PORT and LOG_LEVEL set, and stops on SIGTERM', async () => {
    const simulator = startCli(['--port', '0', '--seed', 'cli'], {
      program: LENDING_SIM,
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
    const simulator = startCli(['--error-rate', '2'], { env: {}, program: LENDING_SIM });
    const exit = await simulator.exited;
    assert.equal(exit.code, 2);
    assert.match(exit.stderr, /--error-rate must be a number from 0 to 1/);
  });
});
