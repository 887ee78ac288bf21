/**
 * `npm run dev` as a newcomer meets it (README, "Try it"): the README's walkthrough, run as
 * printed, prints what the README says; a stale `.tmp/dev.env` in the shell is ignored; a
 * signal to any process of its tree stops all of it, and nothing is left behind.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { findFreePorts } from '../../dev/free-port.ts';
import {
  DEV_ENV_FILE,
  DevProcess,
  PROJECT_ROOT,
  type ProcessIdentity,
  processTree,
  stillRunning,
} from '../support/dev-process.ts';
import { createTestDatabase, testInfrastructure, uniqueName } from '../support/test-environment.ts';
import { waitFor } from '../support/wait-for.ts';

const run = promisify(execFile);

/** A command of the walkthrough and the output the README prints for it. */
interface WalkthroughStep {
  command: string;
  expected: string;
}

/**
 * The README's walkthrough: the ```console block after the `<!-- walkthrough -->` marker,
 * `$ command` lines each followed by the output it prints.
 */
function readmeWalkthrough(): WalkthroughStep[] {
  const readme = readFileSync(`${PROJECT_ROOT}README.md`, 'utf8');
  const block = /<!-- walkthrough -->\s*```console\n([\s\S]*?)\n```/.exec(readme)?.[1];
  assert.ok(block, 'the README has a walkthrough block');
  const steps: WalkthroughStep[] = [];
  for (const line of block.split('\n')) {
    if (line.startsWith('$ ')) steps.push({ command: line.slice(2), expected: '' });
    else {
      const step = steps.at(-1);
      assert.ok(step, 'the walkthrough starts with a command');
      step.expected += `${line}\n`;
    }
  }
  return steps;
}

/**
 * Runs the walkthrough in the project's directory, each command in bash after the `source`
 * lines before it, as a person types them into a second terminal. The service applies events
 * asynchronously, so a command that only reads is run again until it prints what the README
 * says (or 60 s pass); a command that writes (produce) runs once.
 */
async function runWalkthrough(steps: WalkthroughStep[], httpPort: number) {
  const prelude: string[] = [];
  for (const step of steps) {
    const command = step.command.replaceAll('localhost:8080', `localhost:${httpPort}`);
    if (command.startsWith('source ')) {
      prelude.push(command);
      continue;
    }
    const script = [...prelude, command].join(' && ');
    const once = async () => {
      const { stdout, stderr } = await run('bash', ['-c', `${script} 2>&1`], {
        cwd: PROJECT_ROOT,
        env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root' },
        timeout: 120_000,
      });
      return withoutTrailingSpaces(stdout + stderr);
    };
    const expected = withoutTrailingSpaces(step.expected);
    if (/customer-sync produce/.test(command)) {
      assert.equal(await once(), expected, `$ ${step.command}`);
      continue;
    }
    let last = '';
    await waitFor(
      `\`${step.command}\` to print what the README says`,
      async () => {
        last = await once().catch((error: Error) => error.message);
        return last === expected;
      },
      { timeoutMs: 60_000, intervalMs: 500 },
    ).catch(() => {
      assert.equal(last, expected, `$ ${step.command} (the last of its runs, after 60 s)`);
    });
  }
}

/** psql pads its table with trailing spaces, which editors strip from the README. */
const withoutTrailingSpaces = (text: string) => text.replace(/[ \t]+$/gm, '');

async function exitWithin(dev: DevProcess, timeoutMs: number) {
  await waitFor(
    `npm run dev to exit (stderr tail: ${dev.stderr.slice(-800)})`,
    () => dev.child.exitCode !== null || dev.child.signalCode !== null,
    { timeoutMs },
  );
  return dev.exited;
}

async function assertAllGone(tree: ProcessIdentity[]) {
  await waitFor(
    `every process of the tree to end (still running: ${JSON.stringify(tree.filter(stillRunning))})`,
    () => tree.every((identity) => !stillRunning(identity)),
    { timeoutMs: 30_000 },
  );
}

/** `npm run dev` on the test's Kafka and a database of its own: quick, for the signal cases. */
async function devOnTestInfrastructure(): Promise<{ dev: DevProcess; httpPort: number }> {
  const [httpPort = 0] = await findFreePorts(1);
  const base = uniqueName('dev');
  const dev = new DevProcess({
    KAFKA_BROKERS: testInfrastructure().kafkaBrokers,
    DATABASE_URL: await createTestDatabase(),
    TOPIC_UPDATE_REQUESTED: `${base}.customer.update.requested`,
    TOPIC_CUSTOMER_UPDATED: `${base}.customer.updated`,
    TOPIC_DEAD_LETTER: `${base}.customer.update.requested.dlq`,
    KAFKA_GROUP_ID: base,
    HTTP_PORT: String(httpPort),
  });
  await dev.running();
  return { dev, httpPort };
}

describe('npm run dev, as the README tells a newcomer', () => {
  it('runs the walkthrough as printed, in a shell that still has an old .tmp/dev.env, and stops on Ctrl-C to npm', async () => {
    const [deadKafka = 0, deadPostgres = 0, httpPort = 0] = await findFreePorts(3);
    const stale = {
      KAFKA_BROKERS: `127.0.0.1:${deadKafka}`,
      DATABASE_URL: `postgres://postgres@127.0.0.1:${deadPostgres}/postgres`,
    };
    // What `source .tmp/dev.env` of a run that has ended leaves in the shell.
    const dev = new DevProcess({
      ...stale,
      CUSTOMER_SYNC_DEV_STACK: `${stale.KAFKA_BROKERS} ${stale.DATABASE_URL}`,
      HTTP_PORT: String(httpPort),
    });
    await dev.running();
    assert.ok(
      dev
        .devLines()
        .some((line) => /come from a \.tmp\/dev\.env sourced earlier: ignoring them/.test(line)),
      dev.stderr,
    );
    const devEnv = readFileSync(DEV_ENV_FILE, 'utf8');
    assert.doesNotMatch(devEnv, new RegExp(`:${deadKafka}\\b|:${deadPostgres}\\b`));

    await runWalkthrough(readmeWalkthrough(), httpPort);

    const tree = processTree(dev.pid);
    assert.ok(
      tree.some(({ command }) => /kafka\.Kafka|kafka_2\.13|java/.test(command)),
      'a broker runs',
    );
    assert.ok(
      tree.some(({ command }) => /postgres/.test(command)),
      'a database runs',
    );
    dev.child.kill('SIGINT');
    assert.deepEqual(await exitWithin(dev, 90_000), { code: 0, signal: null });
    await assertAllGone(tree);
    assert.equal(existsSync(DEV_ENV_FILE), false, '.tmp/dev.env is removed');
    assert.ok(dev.devLines().includes('[dev] stopping Kafka and PostgreSQL'));
  });

  for (const [target, pattern] of [
    ['npm', undefined],
    ['the dev process', /dev\/dev\.ts/],
    ['the service', /src\/cli\/bin\.ts run/],
  ] as const) {
    it(`stops all of it on SIGTERM to ${target}`, async () => {
      const { dev } = await devOnTestInfrastructure();
      const tree = processTree(dev.pid);
      process.kill(pattern === undefined ? dev.pid : dev.pidOf(pattern), 'SIGTERM');
      assert.deepEqual(await exitWithin(dev, 60_000), { code: 0, signal: null }, dev.output());
      await assertAllGone(tree);
      assert.equal(existsSync(DEV_ENV_FILE), false, '.tmp/dev.env is removed');
    });
  }

  it('stops all of it when the Kafka broker it started is stopped', async () => {
    const [httpPort = 0] = await findFreePorts(1);
    // With its broker gone, the service cannot leave its group or flush: its shutdown runs to
    // the deadline, which the test shortens from 30 s (what is checked is that all of it stops).
    const dev = new DevProcess({ HTTP_PORT: String(httpPort), SHUTDOWN_TIMEOUT_MS: '5000' });
    await dev.running();
    const tree = processTree(dev.pid);
    process.kill(dev.pidOf(/kafka\.Kafka/), 'SIGTERM');
    assert.equal((await exitWithin(dev, 90_000)).code, 1, 'the stack is incomplete: a failure');
    await assertAllGone(tree);
    assert.ok(
      dev
        .devLines()
        .some((line) =>
          /^\[dev\] Kafka (exited with code \d+|was killed by SIG[A-Z]+): stopping$/.test(line),
        ),
      dev.stderr,
    );
    assert.equal(existsSync(DEV_ENV_FILE), false, '.tmp/dev.env is removed');
  });

  it('stops all of it when npm is killed outright', async () => {
    const { dev } = await devOnTestInfrastructure();
    const tree = processTree(dev.pid);
    dev.child.kill('SIGKILL');
    await assertAllGone(tree);
    assert.equal(existsSync(DEV_ENV_FILE), false, '.tmp/dev.env is removed');
  });

  it('fails within seconds with one line naming which dependency and where, when the named broker is unreachable', async () => {
    const [deadKafka = 0] = await findFreePorts(1);
    const dev = new DevProcess({
      KAFKA_BROKERS: `127.0.0.1:${deadKafka}`,
      DATABASE_URL: await createTestDatabase(),
    });
    const exit = await exitWithin(dev, 30_000);
    assert.equal(exit.code, 69);
    const ours = dev.stderr.split('\n').filter((line) => line.startsWith('customer-sync:'));
    assert.equal(ours.length, 1, dev.stderr);
    assert.match(
      ours[0] ?? '',
      new RegExp(
        `^customer-sync: Kafka at 127\\.0\\.0\\.1:${deadKafka} \\(KAFKA_BROKERS\\) was not reachable within [45](\\.\\d)? s: connection refused \\(ECONNREFUSED\\)$`,
      ),
    );
    assert.equal(existsSync(DEV_ENV_FILE), false);
  });
});
