import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { removeAbandonedFetches, withCacheLock } from './cache-lock.ts';
import { DevstackError } from './devstack-error.ts';
import { findExecutable } from './find-executable.ts';
import { runCommand } from './run-command.ts';

/**
 * Apicurio Registry 2.6 is the newest line that runs on Java 17 (3.x is built for Java 21). Its
 * Confluent-compatible API (`/apis/ccompat/v7`) is what @kafkajs/confluent-schema-registry and
 * Confluent's own serializers talk to.
 */
export const DEFAULT_APICURIO_VERSION = '2.6.13.Final';

/** One unpacked Apicurio Registry app: `java -jar runnerJar` starts it. */
export type SchemaRegistryApp = { version: string; appDir: string; runnerJar: string };

export type SchemaRegistryAppOptions = {
  version: string;
  /** Root of the git-ignored cache; the app lands in `<cacheDir>/apicurio-registry/<version>/app`. */
  cacheDir: string;
  log: (line: string) => void;
};

const ARTIFACT = 'io.apicurio:apicurio-registry-app';
const DEPENDENCY_PLUGIN = 'org.apache.maven.plugins:maven-dependency-plugin:3.8.1';
const FETCH_TIMEOUT_MS = 15 * 60_000;
const STALE_LOCK_MS = FETCH_TIMEOUT_MS + 60_000;

/**
 * The Apicurio Registry app of `version`, downloaded once with Maven from Maven Central (the
 * `all` assembly of `io.apicurio:apicurio-registry-app`, ~140 MB) and unpacked into the cache.
 * Concurrent test processes wait on a lock file, and the app becomes visible by one atomic
 * rename, so a half-finished download is never taken for a complete one.
 */
export async function ensureSchemaRegistryApp(
  options: SchemaRegistryAppOptions,
): Promise<SchemaRegistryApp> {
  const versionDir = join(options.cacheDir, 'apicurio-registry', options.version);
  const app = appIn(versionDir, options.version);
  if (isComplete(app)) return app;

  await mkdir(versionDir, { recursive: true });
  const lockFile = join(versionDir, 'fetch.lock');
  const isDone = () => isComplete(app);
  await withCacheLock(lockFile, { isDone, staleAfterMs: STALE_LOCK_MS }, async () => {
    if (isComplete(app)) return;
    await fetchWithMaven(options, versionDir, app);
  });
  return app;
}

function appIn(versionDir: string, version: string): SchemaRegistryApp {
  const appDir = join(versionDir, 'app');
  return {
    version,
    appDir,
    runnerJar: join(appDir, `apicurio-registry-app-${version}-runner.jar`),
  };
}

function isComplete(app: SchemaRegistryApp): boolean {
  return existsSync(app.runnerJar);
}

async function fetchWithMaven(
  options: SchemaRegistryAppOptions,
  versionDir: string,
  app: SchemaRegistryApp,
) {
  const mvn = await findExecutable('mvn');
  const tar = await findExecutable('tar');
  if (mvn === undefined || tar === undefined) {
    throw new DevstackError(
      'SCHEMA_REGISTRY_FETCH_FAILED',
      `Maven (mvn) and tar are needed once to download Apicurio Registry ${app.version} into ${app.appDir}: install them, or set TEST_SCHEMA_REGISTRY_URL to use a running Confluent-compatible registry`,
    );
  }
  const started = performance.now();
  options.log(
    `Fetching Apicurio Registry ${app.version} from Maven Central (once, ~140 MB) into ${app.appDir}`,
  );
  await removeAbandonedFetches(versionDir);
  const fetchDir = await mkdtemp(join(versionDir, 'fetch-'));
  try {
    await runCommand(
      mvn,
      [
        '-q',
        '-B',
        `${DEPENDENCY_PLUGIN}:copy`,
        `-Dartifact=${ARTIFACT}:${app.version}:tar.gz:all`,
        `-DoutputDirectory=${fetchDir}`,
        '-Dmdep.stripVersion=true',
      ],
      { cwd: fetchDir, timeoutMs: FETCH_TIMEOUT_MS, dieWithParent: true },
    ).catch((error: unknown) => {
      throw new DevstackError(
        'SCHEMA_REGISTRY_FETCH_FAILED',
        `Could not download Apicurio Registry ${app.version} (${ARTIFACT}, classifier all) with Maven (is Maven Central reachable?)`,
        { cause: error },
      );
    });
    const unpackDir = join(fetchDir, 'app');
    await mkdir(unpackDir);
    const archive = join(fetchDir, 'apicurio-registry-app-all.tar.gz');
    await runCommand(tar, ['-xzf', archive, '-C', unpackDir], { timeoutMs: 5 * 60_000 }).catch(
      (error: unknown) => {
        throw new DevstackError(
          'SCHEMA_REGISTRY_FETCH_FAILED',
          `Could not unpack the Apicurio Registry ${app.version} archive`,
          { cause: error },
        );
      },
    );
    if (!isComplete({ ...app, runnerJar: app.runnerJar.replace(app.appDir, unpackDir) })) {
      throw new DevstackError(
        'SCHEMA_REGISTRY_FETCH_FAILED',
        `The Apicurio Registry ${app.version} archive has no apicurio-registry-app-${app.version}-runner.jar; this version is packaged differently (the local registry supports the 2.x layout)`,
      );
    }
    // Under the lock and not complete, so whatever sits there is debris of a manual edit.
    await rm(app.appDir, { recursive: true, force: true });
    await rename(unpackDir, app.appDir);
  } finally {
    await rm(fetchDir, { recursive: true, force: true });
  }
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  options.log(`Fetched Apicurio Registry ${app.version} in ${seconds} s`);
}
