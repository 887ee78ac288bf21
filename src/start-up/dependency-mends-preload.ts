// `node --import` this before a program that loads postgres.js or kafkajs (test/run.ts does,
// for every test file): they are then mended as the service runs them, or nothing starts.
import { installDependencyMendsOrExit } from './dependency-mends.ts';

installDependencyMendsOrExit('customer-sync');
