import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  DriverFixError,
  installedDriverDirectory,
  mendDriverSource,
  PATCHED_DRIVER_VERSION,
  unappliedFixes,
  verifyDriverFix,
} from '../../src/persistence/postgres-driver-fix.ts';

const driverDirectory = installedDriverDirectory();
const projectManifest = JSON.parse(
  readFileSync(new URL('../../package.json', import.meta.url), 'utf8'),
) as { dependencies: Record<string, string> };

describe('the postgres.js socket-close fix', () => {
  for (const flavour of ['src', 'cjs/src']) {
    it(`applies cleanly to the installed driver (${flavour}/connection.js)`, () => {
      const source = readFileSync(join(driverDirectory, flavour, 'connection.js'), 'utf8');
      assert.equal(unappliedFixes(source), 0);
      const mended = mendDriverSource(source);
      assert.match(mended, /if \(socket === null\) return/);
      assert.equal(mended.match(/chunk = nextWriteTimer = null/g)?.length, 3 + 1);
      // A query for a connection whose socket failed fails; a close settles what is queued.
      assert.match(mended, /if \(socket === null \|\| socket\.destroyed\)\n\s+return queryError/);
      assert.doesNotMatch(mended, /!hadError && \(query \|\| sent\.length\)/);
      assert.match(mended, /;\(query \|\| sent\.length\) && error\([^\n]+\n\s+query = null/);
    });
  }

  it('is idempotent', () => {
    const source = readFileSync(join(driverDirectory, 'src', 'connection.js'), 'utf8');
    const once = mendDriverSource(source);
    assert.equal(mendDriverSource(once), once);
  });

  it('is written for the exact driver version package.json pins', () => {
    assert.equal(projectManifest.dependencies.postgres, PATCHED_DRIVER_VERSION);
    const installed = JSON.parse(readFileSync(join(driverDirectory, 'package.json'), 'utf8'));
    assert.equal(installed.version, PATCHED_DRIVER_VERSION);
    verifyDriverFix(driverDirectory);
  });

  describe('a driver the fix was not written for', () => {
    const copy = mkdtempSync(join(tmpdir(), 'customer-sync-driver-'));
    after(() => rmSync(copy, { recursive: true, force: true }));

    it('refuses to start, in one line naming the version and the file', () => {
      cpSync(driverDirectory, copy, { recursive: true });
      const file = join(copy, 'cjs', 'src', 'connection.js');
      // What a release that rewrote nextWrite would look like to the fix.
      writeFileSync(
        file,
        readFileSync(file, 'utf8').replace('function nextWrite(fn) {', 'function nextWrite(cb) {'),
      );
      const manifest = join(copy, 'package.json');
      writeFileSync(
        manifest,
        readFileSync(manifest, 'utf8').replace(/"version": "[^"]+"/, '"version": "3.5.0"'),
      );
      assert.throws(
        () => verifyDriverFix(copy),
        (error: unknown) =>
          error instanceof DriverFixError &&
          !error.message.includes('\n') &&
          /postgres\.js 3\.5\.0 is not the version/.test(error.message) &&
          /1 of its 6 fixes do not apply to cjs\/src\/connection\.js/.test(error.message),
      );
      assert.throws(() => mendDriverSource(readFileSync(file, 'utf8')), DriverFixError);
    });
  });
});
