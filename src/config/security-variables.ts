import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { z } from 'zod';
import { booleanText } from './text-values.ts';

/**
 * The transport-security and credential variables (SPEC §8: TLS with a CA, mTLS, SASL/SCRAM for
 * Kafka and Postgres; SPEC §6: lending-system credentials). Parsed here, assembled into the one
 * Config by config.ts. Certificate and key files are read once, at start-up, so a missing or
 * unreadable file is a configuration error naming the variable, not a failure at first connect.
 */

/** libpq's names: `require` encrypts without checking who answers; the verify modes check. */
export const DATABASE_SSL_MODES = ['disable', 'require', 'verify-ca', 'verify-full'] as const;
export type DatabaseSslMode = (typeof DATABASE_SSL_MODES)[number];

/** How the service's Postgres connections are secured; every connection it opens uses this. */
export interface DatabaseTls {
  mode: DatabaseSslMode;
  /** DATABASE_SSL_CA: PEM of the CA(s) to trust instead of the system's */
  ca?: string;
}

/** TLS to the Kafka brokers: a CA to trust, and a client certificate for mTLS. */
export interface KafkaTls {
  ca?: string;
  cert?: string;
  key?: string;
}

type PemKind = 'certificate' | 'private key';

const PEM_MARKERS: Record<PemKind, RegExp> = {
  certificate: /-----BEGIN CERTIFICATE-----/,
  'private key': /-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----/,
};

/** A file holding PEM; the message names the problem, never the path's contents. */
const pemFile = (kind: PemKind) =>
  z.string().transform((path, context) => {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      context.issues.push({
        code: 'custom',
        message: `cannot be read (${typeof code === 'string' ? code : 'unreadable'})`,
        input: '[file]',
      });
      return z.NEVER;
    }
    if (!PEM_MARKERS[kind].test(text)) {
      context.issues.push({
        code: 'custom',
        message: `must name a PEM file holding a ${kind}`,
        input: '[file]',
      });
      return z.NEVER;
    }
    return text;
  });

/** An interface to listen on: an IP address or a host name. */
const listenHost = z
  .string()
  .refine(
    (text) =>
      isIP(text) !== 0 ||
      /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/.test(
        text,
      ),
    { message: 'must be an IP address or a host name (0.0.0.0 or :: for every interface)' },
  );

/** The zod fields of this group; config.ts spreads them into the one environment schema. */
export const SECURITY_VARIABLES = {
  DATABASE_SSL_MODE: z
    .enum(DATABASE_SSL_MODES, { message: `must be one of ${DATABASE_SSL_MODES.join(', ')}` })
    .optional(),
  DATABASE_SSL_CA: pemFile('certificate').optional(),
  KAFKA_SSL_CA: pemFile('certificate').optional(),
  KAFKA_SSL_CERT: pemFile('certificate').optional(),
  KAFKA_SSL_KEY: pemFile('private key').optional(),
  KAFKA_SASL_ALLOW_PLAINTEXT: booleanText.default(false),
  HTTP_HOST: listenHost.optional(),
  // A development switch: the simulator, `npm run dev` and the tests serve plain HTTP.
  LENDING_API_ALLOW_INSECURE_HTTP: booleanText.default(false),
};

type SecurityEnvironment = {
  [name in keyof typeof SECURITY_VARIABLES]?: z.output<(typeof SECURITY_VARIABLES)[name]>;
} & {
  DATABASE_URL?: string | undefined;
  KAFKA_SSL: boolean;
  KAFKA_SASL_MECHANISM?: string | undefined;
  LENDING_API_URL?: string | undefined;
};

interface Issue {
  path: [string];
  message: string;
}

/** libpq's sslmode values that postgres.js would read from DATABASE_URL on its own. */
function urlSslMode(databaseUrl: string | undefined): string | undefined {
  if (databaseUrl === undefined || !URL.canParse(databaseUrl)) return undefined;
  return new URL(databaseUrl).searchParams.get('sslmode') ?? undefined;
}

/** Combinations that are insecure or contradict each other; each names its variable. */
export function securityIssues(env: SecurityEnvironment): Issue[] {
  const issues: Issue[] = [];
  const fromUrl = urlSslMode(env.DATABASE_URL);
  if (fromUrl !== undefined) {
    if (!(DATABASE_SSL_MODES as readonly string[]).includes(fromUrl)) {
      issues.push({
        path: ['DATABASE_URL'],
        message: `sslmode must be one of ${DATABASE_SSL_MODES.join(', ')} (or set DATABASE_SSL_MODE)`,
      });
    } else if (env.DATABASE_SSL_MODE !== undefined && env.DATABASE_SSL_MODE !== fromUrl) {
      issues.push({
        path: ['DATABASE_SSL_MODE'],
        message: 'disagrees with the sslmode in DATABASE_URL: set one of them',
      });
    }
  }
  if (env.DATABASE_URL !== undefined && URL.canParse(env.DATABASE_URL)) {
    const params = new URL(env.DATABASE_URL).searchParams;
    if (['sslrootcert', 'sslcert', 'sslkey'].some((name) => params.has(name))) {
      issues.push({
        path: ['DATABASE_URL'],
        message: 'sslrootcert, sslcert and sslkey are not read from it: use DATABASE_SSL_CA',
      });
    }
  }
  if (
    env.DATABASE_SSL_CA !== undefined &&
    (env.DATABASE_SSL_MODE ?? fromUrl ?? 'disable') === 'disable'
  ) {
    issues.push({ path: ['DATABASE_SSL_CA'], message: 'is set but DATABASE_SSL_MODE is disable' });
  }
  for (const name of ['KAFKA_SSL_CA', 'KAFKA_SSL_CERT', 'KAFKA_SSL_KEY'] as const) {
    if (env[name] !== undefined && !env.KAFKA_SSL)
      issues.push({ path: [name], message: 'is set but KAFKA_SSL is not true' });
  }
  if ((env.KAFKA_SSL_CERT === undefined) !== (env.KAFKA_SSL_KEY === undefined)) {
    const unset = env.KAFKA_SSL_CERT === undefined ? 'KAFKA_SSL_CERT' : 'KAFKA_SSL_KEY';
    issues.push({
      path: [unset],
      message: 'is required when the other of KAFKA_SSL_CERT/KAFKA_SSL_KEY is set',
    });
  }
  if (env.KAFKA_SASL_MECHANISM !== undefined && !env.KAFKA_SSL && !env.KAFKA_SASL_ALLOW_PLAINTEXT) {
    issues.push({
      path: ['KAFKA_SASL_MECHANISM'],
      message:
        'over a plaintext connection would send the credentials unencrypted: set KAFKA_SSL=true (KAFKA_SASL_ALLOW_PLAINTEXT=true allows it, for a development broker only)',
    });
  }
  if (
    env.LENDING_API_URL !== undefined &&
    !env.LENDING_API_ALLOW_INSECURE_HTTP &&
    env.LENDING_API_URL.toLowerCase().startsWith('http:')
  ) {
    issues.push({
      path: ['LENDING_API_URL'],
      message:
        'must be an https:// URL (LENDING_API_ALLOW_INSECURE_HTTP=true allows http://, for development only)',
    });
  }
  return issues;
}

/**
 * The Postgres TLS settings: DATABASE_SSL_MODE, else the sslmode of DATABASE_URL, else none.
 * As in libpq, `require` with a CA file verifies the chain (it is then `verify-ca`).
 */
export function databaseTls(env: SecurityEnvironment): DatabaseTls {
  const chosen = (env.DATABASE_SSL_MODE ??
    urlSslMode(env.DATABASE_URL) ??
    'disable') as DatabaseSslMode;
  const mode = chosen === 'require' && env.DATABASE_SSL_CA !== undefined ? 'verify-ca' : chosen;
  return { mode, ...(env.DATABASE_SSL_CA !== undefined ? { ca: env.DATABASE_SSL_CA } : {}) };
}

export function kafkaTls(env: SecurityEnvironment): KafkaTls {
  return {
    ...(env.KAFKA_SSL_CA !== undefined ? { ca: env.KAFKA_SSL_CA } : {}),
    ...(env.KAFKA_SSL_CERT !== undefined ? { cert: env.KAFKA_SSL_CERT } : {}),
    ...(env.KAFKA_SSL_KEY !== undefined ? { key: env.KAFKA_SSL_KEY } : {}),
  };
}

/** `{"tenant-a":"token",…}` as a Map: a tenant id is never looked up among built-in properties. */
export const tenantTokens = z.string().transform((text, context) => {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  const valid =
    typeof parsed === 'object' &&
    parsed !== null &&
    !Array.isArray(parsed) &&
    Object.values(parsed).every((token) => typeof token === 'string' && token.length > 0);
  if (valid) return new Map(Object.entries(parsed as Record<string, string>));
  context.issues.push({
    code: 'custom',
    message: 'must be a JSON object of tenant id to non-empty token',
    input: '[redacted]',
  });
  return z.NEVER;
});
