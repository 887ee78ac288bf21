import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { removeAbandonedFetches, withCacheLock } from './cache-lock.ts';
import { DevstackError, type DevstackErrorCode } from './devstack-error.ts';
import { findExecutable } from './find-executable.ts';
import { runCommand } from './run-command.ts';

/** One Maven artifact and its transitive runtime dependencies. */
export type MavenDependency = {
  groupId: string;
  artifactId: string;
  version: string;
  scope?: 'runtime';
};

/** What to fetch into `dir/libs`, and how to tell that a fetch finished. */
export type MavenJarSet = {
  /** what the jars are, for progress lines and errors, e.g. "Apache Kafka 4.1.1 broker" */
  description: string;
  /** `<dir>/libs` receives the jars */
  dir: string;
  dependencies: readonly MavenDependency[];
  /** a jar whose presence in libs/ means the fetch completed (it lands by one rename) */
  markerJar: string;
  /** the error code and the advice given when Maven is missing or fails */
  failureCode: DevstackErrorCode;
  alternative: string;
};

/** A fetched jar set, ready for `java -cp`. */
export type MavenJars = { libsDir: string; classpath: string };

const DEPENDENCY_PLUGIN = 'org.apache.maven.plugins:maven-dependency-plugin:3.8.1';
const FETCH_TIMEOUT_MS = 15 * 60_000;
const STALE_LOCK_MS = FETCH_TIMEOUT_MS + 60_000;

export function mavenJarsIn(dir: string): MavenJars {
  const libsDir = join(dir, 'libs');
  return { libsDir, classpath: join(libsDir, '*') };
}

export function mavenJarsFetched(set: Pick<MavenJarSet, 'dir' | 'markerJar'>): boolean {
  return existsSync(join(mavenJarsIn(set.dir).libsDir, set.markerJar));
}

/**
 * The jars of `set`, resolved once by Maven (`dependency:copy-dependencies` on a generated POM)
 * from Maven Central into the git-ignored cache. Concurrent processes wait on a lock file, and
 * the jars become visible by one atomic rename, so a half-finished download is never taken for
 * a complete one.
 */
export async function ensureMavenJars(
  set: MavenJarSet,
  log: (line: string) => void,
): Promise<MavenJars> {
  const jars = mavenJarsIn(set.dir);
  if (mavenJarsFetched(set)) return jars;
  await mkdir(set.dir, { recursive: true });
  const isDone = () => mavenJarsFetched(set);
  await withCacheLock(join(set.dir, 'fetch.lock'), { isDone, staleAfterMs: STALE_LOCK_MS }, () =>
    isDone() ? Promise.resolve() : fetchWithMaven(set, jars, log),
  );
  return jars;
}

async function fetchWithMaven(set: MavenJarSet, jars: MavenJars, log: (line: string) => void) {
  const mvn = await findExecutable('mvn');
  if (mvn === undefined) {
    throw new DevstackError(
      'MAVEN_MISSING',
      `Maven (mvn) is needed once to download the ${set.description} jars into ${jars.libsDir}: install Maven, or ${set.alternative}`,
    );
  }
  const started = performance.now();
  log(`Fetching the ${set.description} jars from Maven Central (once) into ${jars.libsDir}`);
  await removeAbandonedFetches(set.dir);
  const fetchDir = await mkdtemp(join(set.dir, 'fetch-'));
  try {
    const downloadDir = join(fetchDir, 'libs');
    await writeFile(join(fetchDir, 'pom.xml'), pomOf(set.dependencies));
    await runCommand(
      mvn,
      [
        '-q',
        '-B',
        '-f',
        join(fetchDir, 'pom.xml'),
        `${DEPENDENCY_PLUGIN}:copy-dependencies`,
        `-DoutputDirectory=${downloadDir}`,
        '-DincludeScope=runtime',
      ],
      { cwd: fetchDir, timeoutMs: FETCH_TIMEOUT_MS, dieWithParent: true },
    ).catch((error: unknown) => {
      throw new DevstackError(
        set.failureCode,
        `Could not download the ${set.description} jars with Maven (is Maven Central reachable?)`,
        { cause: error },
      );
    });
    // Under the lock and not complete, so whatever sits there is debris of a manual edit.
    await rm(jars.libsDir, { recursive: true, force: true });
    await rename(downloadDir, jars.libsDir);
  } finally {
    await rm(fetchDir, { recursive: true, force: true });
  }
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  log(`Fetched the ${set.description} jars in ${seconds} s (${await sizeInMiB(jars.libsDir)} MiB)`);
}

function pomOf(dependencies: readonly MavenDependency[]): string {
  const entries = dependencies.map(
    (dependency) => `    <dependency>
      <groupId>${dependency.groupId}</groupId>
      <artifactId>${dependency.artifactId}</artifactId>
      <version>${dependency.version}</version>${dependency.scope ? `\n      <scope>${dependency.scope}</scope>` : ''}
    </dependency>`,
  );
  return `<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.customer-sync.devstack</groupId>
  <artifactId>fetched-jars</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
${entries.join('\n')}
  </dependencies>
</project>
`;
}

async function sizeInMiB(dir: string): Promise<string> {
  const files = await readdir(dir);
  const sizes = await Promise.all(files.map(async (file) => (await stat(join(dir, file))).size));
  return (sizes.reduce((total, size) => total + size, 0) / 1024 / 1024).toFixed(0);
}
