import {
  type LendingFaults,
  type LendingSimulatorOptions,
  startLendingSimulator,
} from '../../dev/lending-simulator/lending-simulator.ts';
import type { WireLendingCustomer, WireLendingLoan } from '../../src/contracts/lending-system.ts';
import { registerCleanup } from './cleanup.ts';
import { uniqueName } from './test-environment.ts';

/**
 * The lending-system simulator as a real HTTP server on a free port, closed when the test file
 * ends, with helpers that go through its HTTP API: the contract endpoints to learn what the
 * lending system will say, and the admin endpoints to change it mid-test.
 */
export async function startTestLendingSimulator(
  options: Partial<Omit<LendingSimulatorOptions, 'port'>> = {},
) {
  const simulator = await startLendingSimulator({
    port: 0,
    host: '127.0.0.1',
    seed: uniqueName('seed'),
    ...options,
  });
  registerCleanup(() => simulator.close());

  async function call(method: string, path: string, body?: unknown): Promise<unknown> {
    const response = await fetch(`${simulator.url}${path}`, {
      method,
      headers: {
        'content-type': 'application/json',
        ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    if (response.status === 404 && method === 'GET') return undefined;
    if (!response.ok) throw new Error(`simulator ${method} ${path}: ${response.status}`);
    return response.status === 204 ? undefined : response.json();
  }
  const segment = encodeURIComponent;

  return {
    url: simulator.url,
    stats: simulator.stats,
    /** what the lending system answers for the customer (undefined: 404) */
    customer: (tenantId: string, externalId: string) =>
      call('GET', `/tenants/${segment(tenantId)}/customers/${segment(externalId)}`) as Promise<
        WireLendingCustomer | undefined
      >,
    loans: async (tenantId: string, externalId: string) =>
      (
        (await call(
          'GET',
          `/tenants/${segment(tenantId)}/customers/${segment(externalId)}/loans`,
        )) as { loans: WireLendingLoan[] } | undefined
      )?.loans ?? [],
    /** PUT /admin/faults */
    setFaults: (faults: Partial<LendingFaults>) =>
      call('PUT', '/admin/faults', faults) as Promise<LendingFaults>,
    /** serve this instead of the seeded data; `customer: null` makes it a 404 */
    override: (
      tenantId: string,
      externalId: string,
      data: { customer?: unknown; loans?: unknown[] },
    ) => call('PUT', `/admin/tenants/${segment(tenantId)}/customers/${segment(externalId)}`, data),
  };
}

export type TestLendingSimulator = Awaited<ReturnType<typeof startTestLendingSimulator>>;
