#!/usr/bin/env node
// The entry point: mends the database driver and kafkajs, and chooses how drizzle loads, before
// anything loads them; then runs the CLI.
import { enableCompileCache } from 'node:module';
import { installDrizzleCommonJsLoader } from '../persistence/drizzle-commonjs-loader.ts';
import { installDependencyMendsOrExit } from '../start-up/dependency-mends.ts';

// Node keeps the type-stripped source and compiled code of every module in a cache directory
// (by default under the system temporary directory; NODE_COMPILE_CACHE names another,
// NODE_DISABLE_COMPILE_CACHE=1 turns it off). From the second start on, loading the service
// neither strips types nor compiles again: ~15% less start-up time, and a lower start-up peak
// of memory when the heap is not capped (measured: 0.66 -> 0.57 s, 250 -> 223 MiB).
enableCompileCache();
installDependencyMendsOrExit('customer-sync');
installDrizzleCommonJsLoader();
await import('./customer-sync.ts');
