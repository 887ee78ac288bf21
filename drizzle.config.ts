import { defineConfig } from 'drizzle-kit';

// Only `drizzle-kit generate` reads this (offline, from the schema): migrations are applied by
// `customer-sync migrate`, never by drizzle-kit against a live database.
export default defineConfig({
  dialect: 'postgresql',
  schema: './src/persistence/schema.ts',
  out: './drizzle',
});
