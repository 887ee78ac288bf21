#!/usr/bin/env node
// The entry point: mends the database driver and chooses how drizzle loads before anything
// loads them, then runs the CLI.
import { installDrizzleCommonJsLoader } from '../persistence/drizzle-commonjs-loader.ts';
import { installPostgresDriverFix } from '../persistence/postgres-driver-fix.ts';

installPostgresDriverFix((detail) => process.stderr.write(`customer-sync: warning: ${detail}\n`));
installDrizzleCommonJsLoader();
await import('./customer-sync.ts');
