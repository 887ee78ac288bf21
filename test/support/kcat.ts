import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { findExecutable } from '../../dev/find-executable.ts';
import { testInfrastructure } from './test-environment.ts';

const run = promisify(execFile);

let installed: Promise<string> | undefined;

/**
 * kcat (Debian's package of librdkafka's command-line client): a Kafka client that is not ours,
 * to check what crosses the wire. Installed with apt-get when missing (root, as on the CI
 * machine); apt's own lock serialises test files that ask at once.
 */
export function kcatExecutable(): Promise<string> {
  installed ??= (async () => {
    const found = await findExecutable('kcat');
    if (found !== undefined) return found;
    await run('apt-get', ['install', '-y', '-q', '-o', 'DPkg::Lock::Timeout=300', 'kcat'], {
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
    const after = await findExecutable('kcat');
    if (after === undefined) throw new Error('kcat is missing and apt-get did not install it');
    return after;
  })();
  return installed;
}

/** One message as kcat saw it: partition, offset, key. */
export interface KcatMessage {
  partition: number;
  offset: string;
  key: string;
}

/** Reads a whole topic with kcat, from the beginning to its end as it is now. */
export async function readTopicWithKcat(topic: string): Promise<KcatMessage[]> {
  const { kafkaBrokers } = testInfrastructure();
  const { stdout } = await run(
    await kcatExecutable(),
    ['-b', kafkaBrokers, '-C', '-t', topic, '-o', 'beginning', '-e', '-q', '-f', '%p\t%o\t%k\n'],
    { timeout: 60_000 },
  );
  return stdout
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [partition, offset, key] = line.split('\t');
      return { partition: Number(partition), offset: offset ?? '', key: key ?? '' };
    });
}
