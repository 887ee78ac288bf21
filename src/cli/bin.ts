#!/usr/bin/env node
// The entry point: mends the database driver before anything loads it, then runs the CLI.
import { installPostgresDriverFix } from '../persistence/postgres-driver-fix.ts';

installPostgresDriverFix((detail) => process.stderr.write(`customer-sync: warning: ${detail}\n`));
await import('./customer-sync.ts');
