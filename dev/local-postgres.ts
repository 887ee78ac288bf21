import { chown, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readServerVersion } from './databases.ts';
import { DevstackError } from './devstack-error.ts';
import { findFreePort } from './free-port.ts';
import { describeExit, type OwnedProcess, spawnOwnedProcess } from './owned-process.ts';
import { findPostgresBinDir } from './postgres-binaries.ts';
import { waitUntilReady } from './readiness.ts';
import { runCommand } from './run-command.ts';
import type { RunningPostgres } from './services.ts';
import { createWorkDir, keepForInspection } from './work-dir.ts';

export type LocalPostgresOptions = {
  /** Parent of this cluster's throwaway directory (data, socket, log); default os.tmpdir(). */
  workDir?: string;
  /** Progress lines; silent by default. */
  log?: (line: string) => void;
  /** Directory of initdb and postgres; found via pg_config, the usual places, then PATH. */
  binDir?: string;
  /** OS user that runs the server when we are root, which PostgreSQL refuses; default 'postgres'. */
  osUser?: string;
  readyTimeoutMs?: number;
  /**
   * The superuser's password, with scram-sha-256 authentication instead of trust: for tests of
   * what a refused password looks like.
   */
  password?: string;
  /**
   * Serve TLS with this certificate and key (PEM) and refuse every TCP connection without it
   * (pg_hba `hostssl` only): a server for the tests of DATABASE_SSL_MODE.
   */
  tls?: { certificatePem: string; keyPem: string };
};

/** A throwaway PostgreSQL cluster: trust auth (or a password), superuser `postgres`, durability off. */
export type LocalPostgres = RunningPostgres & { logFile: string };

/** An OS account other than ours that owns the cluster's files and runs the server. */
type ServerAccount = { name: string; uid: number; gid: number };

const READY_TIMEOUT_MS = 60_000;
const STOP_GRACE_MS = 15_000;
const PORT_ATTEMPTS = 3;

// Throwaway data: nothing needs to survive a crash, and fsync is most of a commit's cost.
const TEST_SETTINGS = [
  'fsync=off',
  'synchronous_commit=off',
  'full_page_writes=off',
  'max_connections=200',
];

/**
 * Starts a real PostgreSQL server as a child process on a free loopback port, in a new cluster
 * made by initdb. `stop()` shuts it down and removes its directory; after a failed start the
 * directory is kept for its log.
 */
export async function startLocalPostgres(
  options: LocalPostgresOptions = {},
): Promise<LocalPostgres> {
  const log = options.log ?? (() => undefined);
  const binDir = options.binDir ?? (await findPostgresBinDir());
  if (binDir === undefined) {
    throw new DevstackError(
      'POSTGRES_MISSING',
      'PostgreSQL server programs (initdb, postgres) are needed for the local test database: install PostgreSQL (e.g. apt-get install postgresql) or set TEST_DATABASE_URL to use a running server',
    );
  }
  const account = await serverAccountWhenRoot(options.osUser ?? 'postgres');
  const dir = await createWorkDir(options.workDir ?? tmpdir(), 'customer-sync-postgres-');
  const dataDir = join(dir, 'data');
  const socketDir = join(dir, 'socket');
  const logFile = join(dir, 'postgres.log');
  await mkdir(socketDir);
  if (account !== undefined) {
    await chown(dir, account.uid, account.gid);
    await chown(socketDir, account.uid, account.gid);
  }

  const started = performance.now();
  const authentication = ['-A', 'trust'];
  if (options.password !== undefined) {
    const passwordFile = join(dir, 'password');
    await writeFile(passwordFile, `${options.password}\n`, { mode: 0o600 });
    if (account !== undefined) await chown(passwordFile, account.uid, account.gid);
    authentication.splice(0, 2, '-A', 'scram-sha-256', `--pwfile=${passwordFile}`);
  }
  const initdbArgs = [
    '-D',
    dataDir,
    '-U',
    'postgres',
    ...authentication,
    '-E',
    'UTF8',
    '--locale=C',
  ];
  await runCommand(join(binDir, 'initdb'), [...initdbArgs, '--no-sync', '--no-instructions'], {
    asUser: account?.name,
    cwd: dir,
    timeoutMs: 120_000,
  }).catch(async (error: unknown) => {
    await keepForInspection(dir);
    const rootHint =
      account === undefined
        ? ''
        : ` (we are root, so it runs as '${account.name}', which must be able to reach ${dir}: point TMPDIR or workDir at a directory it can traverse)`;
    throw new DevstackError(
      'POSTGRES_START_FAILED',
      `initdb failed; files kept in ${dir}${rootHint}`,
      {
        cause: error,
      },
    );
  });

  const tlsSettings =
    options.tls === undefined ? [] : await serveOnlyTls(dataDir, options.tls, account);
  for (let attempt = 1; ; attempt += 1) {
    const port = await findFreePort();
    const settings = [
      'listen_addresses=127.0.0.1',
      `port=${port}`,
      `unix_socket_directories=${socketDir}`,
      ...TEST_SETTINGS,
      ...tlsSettings,
    ];
    const server = await spawnOwnedProcess(
      join(binDir, 'postgres'),
      ['-D', dataDir, ...settings.flatMap((setting) => ['-c', setting])],
      { cwd: dir, logFile, asUser: account?.name },
    );
    const credentials =
      options.password === undefined
        ? 'postgres'
        : `postgres:${encodeURIComponent(options.password)}`;
    const url = `postgres://${credentials}@127.0.0.1:${port}/postgres`;
    let version: string;
    try {
      version = await waitUntilReady({
        what: 'PostgreSQL server',
        failureCode: 'POSTGRES_START_FAILED',
        process: server,
        probe: () => readServerVersion(url, options.tls !== undefined),
        deadlineMs: options.readyTimeoutMs ?? READY_TIMEOUT_MS,
      });
    } catch (error) {
      await server.stop('SIGKILL', 0);
      const portTaken = /could not bind|Address already in use/.test(server.logTail(100));
      if (portTaken && attempt < PORT_ATTEMPTS) {
        log('PostgreSQL lost its port to another process; retrying on a new port');
        continue;
      }
      await keepForInspection(dir);
      log(`PostgreSQL failed to start; its files are kept in ${dir}`);
      throw error;
    }
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    log(`PostgreSQL ${version} ready on 127.0.0.1:${port} in ${seconds} s (log: ${logFile})`);
    return {
      url,
      version,
      logFile,
      stop: stopOnce(server, dir),
      exited: server.exited.then(describeExit),
    };
  }
}

/**
 * Writes the server's certificate and key into the data directory (the key readable by the
 * server's account only, as PostgreSQL insists) and a pg_hba.conf that takes TCP connections
 * with TLS only; returns the settings that switch TLS on.
 */
async function serveOnlyTls(
  dataDir: string,
  tls: { certificatePem: string; keyPem: string },
  account: ServerAccount | undefined,
): Promise<string[]> {
  const files = {
    'server.crt': tls.certificatePem,
    'server.key': tls.keyPem,
    'pg_hba.conf': [
      'local all all trust',
      'hostssl all all 127.0.0.1/32 trust',
      'hostssl all all ::1/128 trust',
      '',
    ].join('\n'),
  };
  for (const [name, text] of Object.entries(files)) {
    const path = join(dataDir, name);
    await writeFile(path, text, { mode: 0o600 });
    if (account !== undefined) await chown(path, account.uid, account.gid);
  }
  return [
    'ssl=on',
    `ssl_cert_file=${join(dataDir, 'server.crt')}`,
    `ssl_key_file=${join(dataDir, 'server.key')}`,
  ];
}

function stopOnce(server: OwnedProcess, dir: string): () => Promise<void> {
  let stopping: Promise<void> | undefined;
  return () => {
    // SIGINT is PostgreSQL's fast shutdown, what `pg_ctl stop -m fast` sends.
    stopping ??= server
      .stop('SIGINT', STOP_GRACE_MS)
      .then(() => rm(dir, { recursive: true, force: true }));
    return stopping;
  };
}

async function serverAccountWhenRoot(name: string): Promise<ServerAccount | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  try {
    const [uid, gid] = await Promise.all([
      runCommand('id', ['-u', name]),
      runCommand('id', ['-g', name]),
    ]);
    return { name, uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
  } catch (error) {
    const reason = error instanceof Error ? error.message.replaceAll('\n', ' ') : String(error);
    throw new DevstackError(
      'POSTGRES_START_FAILED',
      `PostgreSQL refuses to run as root, and the OS user '${name}' to run it as was not found (${reason}): create it (useradd --system ${name}) or run as a normal user`,
      { cause: error },
    );
  }
}
