import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import {
  applyFixes,
  packageVersion,
  registerSourceMends,
  type SourceFix,
  unappliedFixes as unappliedSourceFixes,
} from '../start-up/source-mends.ts';

/**
 * postgres.js 3.4.9 (the latest) defers small writes behind a setImmediate. When a connection
 * closes with such a write pending, the timer fires on a null socket and throws from a timer,
 * which no try/catch can catch, so the process dies; and because teardown clears the timer
 * without forgetting it, a reconnected pooled connection may never flush again and hangs.
 * (porsager/postgres issues 1066, 1154, 1208; pull requests 1168, 1176, not released.)
 *
 * It also takes queries on a connection whose socket already failed, between the socket's
 * 'error' (which settles what was pending) and its 'close' (which, after an error, settles
 * nothing): a `begin` or pooled query handed to a connection the pool still lists as open or
 * busy, a transaction's `rollback` after its statement failed on ECONNRESET. Nothing settles
 * them. After the reconnect, such a query is either "answered" by the handshake (a `begin` that
 * never reached the server succeeds, and its statements then commit one by one), or it stays
 * queued, each reply goes to the query before the one it asked, and the next statement waits
 * for ever with its transaction open and its customers locked: the stall seen after a database
 * outage (same family: porsager/postgres#1155, #1186, #1209). Mended: such a query fails at
 * once with CONNECTION_CLOSED, and a close settles whatever is left and forgets the query it
 * was answering.
 *
 * And it leaves Node's default on its sockets, Nagle's algorithm on (libpq turns it off): a
 * transaction's statements sent together may go out in several writes, and a small one waits
 * while the one before is unacknowledged. Mended: TCP_NODELAY, as libpq has it.
 *
 * A database outage must be a retry, never a crash or a hang (SPEC §4.5), so until a fixed
 * release exists the driver's source is mended as it loads. The fix is written for exactly
 * postgres.js 3.4.9 (pinned in package.json); every entry point (the CLI and service, the
 * bench, the dev stack, the test runner) installs it before anything imports the driver, and
 * refuses to start when the installed driver's source is not the one the fix was written for:
 * running unmended would bring back the crash and the stall.
 */
const FIXES: readonly SourceFix[] = [
  [
    'function nextWrite(fn) {\n    const x = socket.write(chunk, fn)',
    'function nextWrite(fn) {\n    if (socket === null) return (chunk = nextWriteTimer = null, false)\n    const x = socket.write(chunk, fn)',
  ],
  [
    "terminated = true\n    if (stream || query || initial || sent.length)\n      error(Errors.connection('CONNECTION_DESTROYED', options))\n\n    clearImmediate(nextWriteTimer)",
    "terminated = true\n    if (stream || query || initial || sent.length)\n      error(Errors.connection('CONNECTION_DESTROYED', options))\n\n    clearImmediate(nextWriteTimer), chunk = nextWriteTimer = null",
  ],
  [
    'incomings = null\n    clearImmediate(nextWriteTimer)',
    'incomings = null\n    clearImmediate(nextWriteTimer), chunk = nextWriteTimer = null',
  ],
  [
    "return queryError(q, Errors.connection('CONNECTION_DESTROYED', options))\n\n    if (stream)",
    "return queryError(q, Errors.connection('CONNECTION_DESTROYED', options))\n\n    if (socket === null || socket.destroyed)\n      return queryError(q, Errors.connection('CONNECTION_CLOSED', options, socket))\n\n    if (stream)",
  ],
  [
    ': new net.Socket()\n    } catch (e) {',
    ': new net.Socket().setNoDelay(true)\n    } catch (e) {',
  ],
  [
    "!hadError && (query || sent.length) && error(Errors.connection('CONNECTION_CLOSED', options, socket))",
    ";(query || sent.length) && error(Errors.connection('CONNECTION_CLOSED', options, socket))\n    query = null",
  ],
];

const DRIVER_CONNECTION = /\/node_modules\/postgres\/(cjs\/)?src\/connection\.js$/;
/** The driver's two builds: ES modules (what we import) and CommonJS (what require finds). */
const DRIVER_BUILDS = ['src/connection.js', 'cjs/src/connection.js'];

/** The installed driver is not the one the fix was written for; nothing may run unmended. */
export class DriverFixError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DriverFixError';
  }
}

let installed = false;

/** The directory of the installed postgres.js, as our own imports of it resolve. */
export function installedDriverDirectory(): string {
  const entry = createRequire(import.meta.url).resolve('postgres');
  return entry.replace(/cjs[\\/]src[\\/]index\.js$/, '');
}

/**
 * Checks that every fix applies to both builds of the driver in `driverDirectory`, then mends
 * the driver's source as it loads. Call before anything imports `postgres`; throws a
 * DriverFixError (one line: which version, which file) when a fix does not apply.
 */
export function installPostgresDriverFix(driverDirectory = installedDriverDirectory()): void {
  if (installed) return;
  verifyDriverFix(driverDirectory);
  installed = true;
  registerSourceMends([{ matches: (url) => DRIVER_CONNECTION.test(url), mend: mendDriverSource }]);
}

/** Throws a DriverFixError unless every fix applies to both builds in `driverDirectory`. */
export function verifyDriverFix(driverDirectory: string): void {
  const version = packageVersion(driverDirectory);
  for (const build of DRIVER_BUILDS) {
    let source: string;
    try {
      source = readFileSync(join(driverDirectory, build), 'utf8');
    } catch {
      throw new DriverFixError(
        `postgres.js ${version}: ${build} cannot be read, so the driver fix cannot be applied (run npm ci)`,
      );
    }
    const missing = unappliedFixes(source);
    if (missing > 0) {
      throw new DriverFixError(
        `postgres.js ${version} is not the version src/persistence/postgres-driver-fix.ts was written for (${PATCHED_DRIVER_VERSION}): ${missing} of its ${FIXES.length} fixes do not apply to ${build}; install the pinned version (npm ci) or rewrite the fix`,
      );
    }
  }
}

/** The version postgres-driver-fix.ts was written and tested for (package.json pins it). */
export const PATCHED_DRIVER_VERSION = '3.4.9';

/** How many of the fixes neither apply to nor are already in `source`. */
export function unappliedFixes(source: string): number {
  return unappliedSourceFixes(source, FIXES);
}

/** Applies the fixes (each once: applying them to mended source changes nothing). */
export function mendDriverSource(source: string): string {
  return applyFixes(
    source,
    FIXES,
    () => new DriverFixError('postgres.js connection.js changed under the driver fix'),
  );
}
