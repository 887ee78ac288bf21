import { connectDatabase } from '../src/persistence/database.ts';
import type { DatabaseEndpoint } from '../src/persistence/database-tls.ts';
import { createTenantRepository } from '../src/persistence/tenant-repository.ts';

/** The tenant the README's walkthrough sends events for (schemas/examples/demo-events.ndjson). */
export const DEMO_TENANT = { tenantId: 'tenant-a', taskTypes: ['collections', 'servicing'] };

/**
 * Configures the demo tenant unless it is configured already: a change made with
 * `customer-sync tenants set` survives the next `npm run dev` or `docker compose up`.
 * Returns whether it was configured now.
 */
export async function configureDemoTenant(database: string | DatabaseEndpoint): Promise<boolean> {
  const connection = connectDatabase(database, { poolMax: 1 });
  try {
    const tenants = createTenantRepository(connection.db);
    if ((await tenants.list()).some((tenant) => tenant.tenantId === DEMO_TENANT.tenantId))
      return false;
    await tenants.save(DEMO_TENANT);
    return true;
  } finally {
    await connection.close();
  }
}

export const DEMO_TENANT_CONFIGURED = `configured demo tenant ${DEMO_TENANT.tenantId} (task types ${DEMO_TENANT.taskTypes.join(', ')})`;
