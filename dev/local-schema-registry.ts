import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DevstackError } from './devstack-error.ts';
import { findFreePort } from './free-port.ts';
import { findJava } from './java-runtime.ts';
import { spawnOwnedProcess } from './owned-process.ts';
import { waitUntilReady } from './readiness.ts';
import {
  DEFAULT_APICURIO_VERSION,
  ensureSchemaRegistryApp,
  type SchemaRegistryApp,
} from './schema-registry-app.ts';
import type { RunningSchemaRegistry } from './services.ts';
import { createWorkDir, keepForInspection } from './work-dir.ts';

export type LocalSchemaRegistryOptions = {
  /** Parent of this registry's throwaway directory (its log); default os.tmpdir(). */
  workDir?: string;
  /** Progress lines (download, start-up); silent by default. */
  log?: (line: string) => void;
  /** Apicurio Registry 2.x version; default env APICURIO_REGISTRY_VERSION, else 2.6.13.Final. */
  version?: string;
  /** Root of the download cache; default `<project>/.cache`, which git ignores. */
  cacheDir?: string;
  readyTimeoutMs?: number;
};

/** Apicurio Registry, in-memory storage, serving the Confluent Schema Registry API. */
export type LocalSchemaRegistry = RunningSchemaRegistry & { logFile: string };

/** Where Apicurio Registry 2.x serves the Confluent Schema Registry REST API. */
export const APICURIO_CONFLUENT_API_PATH = '/apis/ccompat/v7';

const PROJECT_CACHE_DIR = fileURLToPath(new URL('../.cache/', import.meta.url));
const READY_TIMEOUT_MS = 90_000;
const STOP_GRACE_MS = 10_000;
const PORT_ATTEMPTS = 3;
const PORT_TAKEN = Symbol('port taken');

// A registry for tests holds a handful of schemas: start fast (C1 only, serial GC) rather than
// run fast. Measured on 2 cores: ready in ~5 s instead of ~7 s, ~220 MB resident.
const REGISTRY_JVM_FLAGS = [
  '-Xms64m',
  '-Xmx384m',
  '-XX:TieredStopAtLevel=1',
  '-XX:+UseSerialGC',
  '-XX:+ExitOnOutOfMemoryError',
  '-Djava.awt.headless=true',
];

/**
 * Starts a real Confluent-compatible Schema Registry as a child process: Apicurio Registry with
 * in-memory storage (nothing to clean up), fetched once with Maven, on a free loopback port,
 * ready when its Confluent API lists subjects. `stop()` removes its directory; after a failed
 * start the directory is kept for its log.
 */
export async function startLocalSchemaRegistry(
  options: LocalSchemaRegistryOptions = {},
): Promise<LocalSchemaRegistry> {
  const log = options.log ?? (() => undefined);
  const version =
    options.version ?? process.env.APICURIO_REGISTRY_VERSION ?? DEFAULT_APICURIO_VERSION;
  const java = await findJava({
    service: 'local Schema Registry (Apicurio)',
    alternative: 'set TEST_SCHEMA_REGISTRY_URL to use a running Confluent-compatible registry',
  });
  const app = await ensureSchemaRegistryApp({
    version,
    cacheDir: options.cacheDir ?? PROJECT_CACHE_DIR,
    log,
  });
  for (let attempt = 1; ; attempt += 1) {
    const started = await startRegistry(java, app, options, log);
    if (started !== PORT_TAKEN) return started;
    if (attempt === PORT_ATTEMPTS) {
      throw new DevstackError(
        'SCHEMA_REGISTRY_START_FAILED',
        `Apicurio Registry could not bind a free port in ${PORT_ATTEMPTS} attempts`,
      );
    }
    log('Apicurio Registry lost its port to another process; retrying on a new port');
  }
}

async function startRegistry(
  java: string,
  app: SchemaRegistryApp,
  options: LocalSchemaRegistryOptions,
  log: (line: string) => void,
): Promise<LocalSchemaRegistry | typeof PORT_TAKEN> {
  const dir = await createWorkDir(options.workDir ?? tmpdir(), 'customer-sync-registry-');
  const port = await findFreePort();
  const logFile = join(dir, 'registry.log');
  const started = performance.now();
  const registry = await spawnOwnedProcess(
    java,
    [
      ...REGISTRY_JVM_FLAGS,
      `-Dquarkus.http.host=127.0.0.1`,
      `-Dquarkus.http.port=${port}`,
      '-Dquarkus.log.console.color=false',
      '-jar',
      app.runnerJar,
    ],
    // The 2.x app stores in an in-memory H2 database: a fresh, empty registry every start.
    // Quarkus resolves its `lib/` next to the runner jar; the working directory is ours.
    { cwd: dir, logFile },
  );
  const url = `http://127.0.0.1:${port}${APICURIO_CONFLUENT_API_PATH}`;
  try {
    await waitUntilReady({
      what: `Apicurio Registry ${app.version}`,
      failureCode: 'SCHEMA_REGISTRY_START_FAILED',
      process: registry,
      probe: () => probeSchemaRegistry(url),
      deadlineMs: options.readyTimeoutMs ?? READY_TIMEOUT_MS,
    });
  } catch (error) {
    await registry.stop('SIGKILL', 0);
    if (/seems to be in use|Address already in use|BindException/.test(registry.logTail(200))) {
      await rm(dir, { recursive: true, force: true });
      return PORT_TAKEN;
    }
    await keepForInspection(dir);
    log(`Apicurio Registry failed to start; its files are kept in ${dir}`);
    throw error;
  }
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  log(`Apicurio Registry ${app.version} ready at ${url} in ${seconds} s (log: ${logFile})`);

  let stopping: Promise<void> | undefined;
  return {
    url,
    version: `Apicurio Registry ${app.version}`,
    logFile,
    stop() {
      stopping ??= (async () => {
        await registry.stop('SIGTERM', STOP_GRACE_MS);
        await rm(dir, { recursive: true, force: true });
      })();
      return stopping;
    },
  };
}

/**
 * Resolves once `url` serves the Confluent Schema Registry API (`GET /subjects` answers a JSON
 * array); rejects with the reason otherwise, within `timeoutMs`.
 */
export async function probeSchemaRegistry(url: string, timeoutMs = 2_000): Promise<void> {
  const response = await fetch(`${url.replace(/\/+$/, '')}/subjects`, {
    signal: AbortSignal.timeout(timeoutMs),
  });
  const body: unknown = await response.json().catch(() => undefined);
  if (!response.ok || !Array.isArray(body)) {
    throw new Error(`GET /subjects answered ${response.status}, not a list of subjects`);
  }
}
