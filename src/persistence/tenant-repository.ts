import { asc, sql } from 'drizzle-orm';
import type { TenantConfiguration } from '../contracts/tenant-rules.ts';
import type { Database } from './database.ts';
import { tenants } from './schema.ts';

/** Company configuration (SPEC §3: a tenant's task types), managed by `customer-sync tenants`. */
export function createTenantRepository(db: Database) {
  return {
    async save(tenant: TenantConfiguration): Promise<void> {
      await db
        .insert(tenants)
        .values({
          tenantId: tenant.tenantId,
          taskTypes: [...tenant.taskTypes],
          lendingApiUrl: tenant.lendingApiUrl ?? null,
        })
        .onConflictDoUpdate({
          target: tenants.tenantId,
          set: {
            taskTypes: [...tenant.taskTypes],
            ...(tenant.lendingApiUrl !== undefined ? { lendingApiUrl: tenant.lendingApiUrl } : {}),
            updatedAt: sql`now()`,
          },
        });
    },
    async list(): Promise<TenantConfiguration[]> {
      const rows = await db.select().from(tenants).orderBy(asc(tenants.tenantId));
      return rows.map((row) => ({
        tenantId: row.tenantId,
        taskTypes: row.taskTypes,
        lendingApiUrl: row.lendingApiUrl,
      }));
    },
  };
}
