import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';
import { mendDriverSource } from '../../src/persistence/postgres-driver-fix.ts';

const require = createRequire(import.meta.url);
const driverDirectory = require.resolve('postgres').replace(/cjs\/src\/index\.js$/, '');

describe('the postgres.js socket-close fix', () => {
  for (const flavour of ['src', 'cjs/src']) {
    it(`applies cleanly to the installed driver (${flavour}/connection.js)`, () => {
      const source = readFileSync(`${driverDirectory}${flavour}/connection.js`, 'utf8');
      const problems: string[] = [];
      const mended = mendDriverSource(source, (detail) => problems.push(detail));
      assert.deepEqual(problems, []);
      assert.match(mended, /if \(socket === null\) return/);
      assert.equal(mended.match(/chunk = nextWriteTimer = null/g)?.length, 3 + 1);
      // A query for a connection whose socket failed fails; a close settles what is queued.
      assert.match(mended, /if \(socket === null \|\| socket\.destroyed\)\n\s+return queryError/);
      assert.doesNotMatch(mended, /!hadError && \(query \|\| sent\.length\)/);
      assert.match(mended, /;\(query \|\| sent\.length\) && error\([^\n]+\n\s+query = null/);
    });
  }

  it('is idempotent', () => {
    const source = readFileSync(`${driverDirectory}src/connection.js`, 'utf8');
    const once = mendDriverSource(source);
    assert.equal(mendDriverSource(once), once);
  });
});
