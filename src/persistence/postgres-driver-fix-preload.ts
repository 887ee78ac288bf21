// `node --import` this before a program that loads postgres.js (test/run.ts does, for every test
// file): the driver is then mended as the service runs it, or nothing starts.
import { installPostgresDriverFixOrExit } from './postgres-driver-fix.ts';

installPostgresDriverFixOrExit('customer-sync');
