import { registerHooks } from 'node:module';

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
 * A database outage must be a retry, never a crash or a hang (SPEC §4.5), so until a fixed
 * release exists the driver's source is mended as it loads. Only the service entry points
 * install this, before they import the driver.
 */
const FIXES: Array<[broken: string, mended: string]> = [
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
    "!hadError && (query || sent.length) && error(Errors.connection('CONNECTION_CLOSED', options, socket))",
    ";(query || sent.length) && error(Errors.connection('CONNECTION_CLOSED', options, socket))\n    query = null",
  ],
];

const DRIVER_CONNECTION = /\/node_modules\/postgres\/(cjs\/)?src\/connection\.js$/;

let installed = false;

/** Mends the driver's source as it loads; call before anything imports `postgres`. */
export function installPostgresDriverFix(onUnexpectedSource?: (detail: string) => void): void {
  if (installed) return;
  installed = true;
  registerHooks({
    load(url, context, nextLoad) {
      const result = nextLoad(url, context);
      if (!DRIVER_CONNECTION.test(url) || result.source === undefined || result.source === null)
        return result;
      return { ...result, source: mendDriverSource(String(result.source), onUnexpectedSource) };
    },
  });
}

/** Applies the fixes; exported for its unit test. */
export function mendDriverSource(
  source: string,
  onUnexpectedSource?: (detail: string) => void,
): string {
  let mended = source;
  for (const [broken, fixed] of FIXES) {
    if (mended.includes(fixed)) continue;
    if (!mended.includes(broken)) {
      onUnexpectedSource?.(
        'postgres.js connection.js changed: check whether the socket-close fix is still needed',
      );
      continue;
    }
    mended = mended.replace(broken, fixed);
  }
  return mended;
}
