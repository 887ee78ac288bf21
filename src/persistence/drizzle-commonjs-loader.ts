import { registerHooks } from 'node:module';

const DRIZZLE = /^drizzle-orm(\/|$)/;

let installed = false;

/**
 * Loads drizzle-orm's CommonJS build instead of its ES modules (the same code, built twice by
 * drizzle). Node 26's ES module loader re-reads the nearest package.json for every module it
 * loads, and drizzle-orm's is 175 KiB of `exports`: importing drizzle-orm/postgres-js as ES
 * modules took 1.5 s and left the heap 200 MiB larger (measured with bench/, see
 * docs-drafts/performance.md), which alone nearly spends the service's 256 MiB budget
 * (SPEC §9). As CommonJS it takes 0.15 s and 28 MiB. Call before anything imports drizzle-orm.
 */
export function installDrizzleCommonJsLoader(): void {
  if (installed) return;
  installed = true;
  registerHooks({
    resolve(specifier, context, nextResolve) {
      if (!DRIZZLE.test(specifier)) return nextResolve(specifier, context);
      return nextResolve(specifier, { ...context, conditions: ['require', 'node', 'default'] });
    },
  });
}
