import type { ConnectionOptions } from 'node:tls';
import type { DatabaseTls } from '../config/security-variables.ts';

/** Where a database is and how to reach it securely: what every connection we open needs. */
export interface DatabaseEndpoint {
  url: string;
  /** none: as DATABASE_SSL_MODE=disable */
  tls?: DatabaseTls;
}

/**
 * postgres.js's `ssl` option for a libpq sslmode. postgres.js's own `require` (and the URL's
 * sslmode) never verifies the server's certificate, so the modes are spelled out as Node's TLS
 * options: `require` encrypts only, `verify-ca` checks the chain against DATABASE_SSL_CA (or the
 * system's CAs), `verify-full` the chain and that the certificate names the host we dialled.
 */
export function postgresSslOption(
  tls: DatabaseTls | undefined,
  url: string,
): false | ConnectionOptions {
  if (tls === undefined || tls.mode === 'disable') return false;
  if (tls.mode === 'require') return { rejectUnauthorized: false };
  const trust: ConnectionOptions = {
    rejectUnauthorized: true,
    ...(tls.ca !== undefined ? { ca: tls.ca } : {}),
  };
  // verify-ca: the chain is checked, the name is not (libpq's meaning).
  if (tls.mode === 'verify-ca') return { ...trust, checkServerIdentity: () => undefined };
  // postgres.js names no server for an IP address, and Node then checks the certificate against
  // `localhost`: the host we dial is named here, so that an IP address is checked as itself.
  const host = singleHost(url);
  return host === undefined ? trust : { ...trust, host };
}

/** The one host of a postgres:// URL; undefined for several (postgres.js names each by DNS). */
function singleHost(url: string): string | undefined {
  if (!URL.canParse(url)) return undefined;
  const { hostname } = new URL(url);
  if (hostname === '' || hostname.includes(',')) return undefined;
  return hostname.startsWith('[') ? hostname.slice(1, -1) : hostname;
}

export function endpointOf(target: string | DatabaseEndpoint): DatabaseEndpoint {
  return typeof target === 'string' ? { url: target } : target;
}
