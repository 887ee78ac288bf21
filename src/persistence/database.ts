import { drizzle, type PostgresJsDatabase } from 'drizzle-orm/postgres-js';
import postgres, { type Sql } from 'postgres';
import * as schema from './schema.ts';

export type Database = PostgresJsDatabase<typeof schema>;
/** The handle drizzle passes to a `db.transaction` callback. */
export type DatabaseTransaction = Parameters<Parameters<Database['transaction']>[0]>[0];

export interface DatabaseConnection {
  db: Database;
  /** the postgres.js client underneath, for LISTEN and reserved connections */
  sql: Sql;
  close(timeoutSeconds?: number): Promise<void>;
}

export function connectDatabase(
  url: string,
  options: { poolMax?: number; applicationName?: string } = {},
): DatabaseConnection {
  const sql = postgres(url, {
    max: options.poolMax ?? 10,
    // The service logs its own, PII-free account of failures; postgres.js notices are noise.
    onnotice: () => {},
    connection: { application_name: options.applicationName ?? 'customer-sync' },
    // Transaction-scoped statements only; no session state survives a pooled connection.
    prepare: true,
  });
  return {
    db: drizzle(sql, { schema }),
    sql,
    close: (timeoutSeconds = 5) => sql.end({ timeout: timeoutSeconds }),
  };
}
