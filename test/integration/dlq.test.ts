import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import type { CustomerUpdated } from '../../src/contracts/customer-updated.ts';
import { startPipelineFixture } from '../support/pipeline-fixture.ts';
import { cliEnvironment, jsonReport, runCli } from '../support/run-cli.ts';
import { messagesOnTopic } from '../support/test-environment.ts';
import { recordTopic } from '../support/topic-recorder.ts';
import { anUpdateRequest } from '../support/update-request-builder.ts';
import { waitFor } from '../support/wait-for.ts';

/**
 * `dlq redrive --json` as a script reads it: written out here rather than imported from the
 * use case's RedriveReport, so that a change to the command's output fails this test.
 */
interface RedriveJson {
  read: number;
  selected: number;
  alreadyRedriven: number;
  sent: number;
  wouldFailAgain: Record<string, number>;
  heldBack: number;
  completed: boolean;
  dryRun: boolean;
}

interface ListedJson {
  position: string;
  code: string;
  key: string;
  path?: string;
  redriven?: boolean;
  payload?: unknown;
}

describe('dlq: inspect dead letters and redrive them after a fix', () => {
  let fixture: Awaited<ReturnType<typeof startPipelineFixture>>;
  let env: Record<string, string>;
  const fixable = anUpdateRequest()
    .withExternalId('fix-1')
    .withData({ taskType: 'sales', firstName: 'Fixable' })
    .build();
  const dlq = (args: string[]) => runCli(['dlq', ...args], { env });

  before(async () => {
    fixture = await startPipelineFixture({
      partitions: 2,
      tenants: { 'tenant-a': ['collections', 'servicing'] },
    });
    env = cliEnvironment({ databaseUrl: fixture.databaseUrl, topics: fixture.topics });
    await fixture.newService().start();
    await fixture.publish([
      fixable,
      anUpdateRequest().withExternalId('typo-1').withData({ frstName: 'Typo' }).build(),
      anUpdateRequest().withTenant('tenant-z').withExternalId('who-1').build(),
    ]);
    await fixture.publishRaw([{ key: 'tenant-a:junk-1', value: '{not json' }]);
    await fixture.deadLetters.waitForCount(4);
  });

  it('lists dead letters with their error headers, newest last, filtered by code', async () => {
    const all = await dlq(['list']);
    assert.equal(all.code, 0, all.stderr);
    for (const code of [
      'tenant.task_type_not_allowed',
      'data.unknown_field',
      'tenant.unknown',
      'decode.malformed',
    ])
      assert.match(all.stdout, new RegExp(code.replaceAll('.', '\\.')));
    assert.match(all.stderr, /4 dead letter\(s\)/);
    assert.doesNotMatch(all.stdout, /Fixable/, 'no payload in a list');

    const filtered = await dlq(['list', '--code', 'tenant.task_type_not_allowed', '--json']);
    assert.equal(filtered.code, 0, filtered.stderr);
    const letters = filtered.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as ListedJson);
    assert.deepEqual(
      letters.map((letter) => [letter.code, letter.key, letter.path, letter.redriven]),
      [['tenant.task_type_not_allowed', 'tenant-a:fix-1', 'data.taskType', false]],
    );

    const limited = await dlq(['list', '--limit', '2', '--json']);
    assert.equal(limited.stdout.trim().split('\n').length, 2);
  });

  it('shows one dead letter, and its payload only with --reveal', async () => {
    const letter = fixture.deadLetters.messages.find(
      (message) => message.headers['error.code'] === 'tenant.task_type_not_allowed',
    );
    assert.ok(letter);
    const where = `${letter.partition}:${letter.offset}`;

    const shown = await dlq(['show', where]);
    assert.equal(shown.code, 0, shown.stderr);
    assert.match(shown.stdout, /error\.code\s+tenant\.task_type_not_allowed/);
    assert.match(shown.stdout, /error\.message\s+data\.taskType is not one of/);
    assert.match(shown.stdout, new RegExp(`original\\s+${fixture.topics.updateRequested} `));
    assert.match(shown.stdout, /hidden: it may hold personal data/);
    assert.doesNotMatch(shown.stdout, /Fixable/);

    const revealed = await dlq(['show', where, '--reveal', '--json']);
    assert.equal(revealed.code, 0, revealed.stderr);
    const json = jsonReport<{ payload: string; errorCode: string }>(revealed);
    assert.equal(json.errorCode, 'tenant.task_type_not_allowed');
    assert.deepEqual(JSON.parse(json.payload), fixable);

    const missing = await dlq(['show', `${letter.partition}:999`]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /no dead letter at/);
  });

  it('redrives a letter once its tenant configuration is fixed, and never twice', async () => {
    const inputBefore = await messagesOnTopic(fixture.topics.updateRequested);

    const beforeFix = jsonReport<RedriveJson>(
      await dlq(['redrive', '--code', 'tenant.task_type_not_allowed', '--json']),
    );
    assert.deepEqual(
      [beforeFix.selected, beforeFix.sent, beforeFix.heldBack],
      [1, 0, 1],
      'held back while it would fail again',
    );
    assert.deepEqual(beforeFix.wouldFailAgain, { 'tenant.task_type_not_allowed': 1 });

    const fix = await runCli(
      ['tenants', 'set', 'tenant-a', '--task-types', 'collections,servicing,sales'],
      { env },
    );
    assert.equal(fix.code, 0, fix.stderr);

    const dryRun = await dlq(['redrive', '--dry-run', '--json']);
    assert.equal(dryRun.code, 0, dryRun.stderr);
    const predicted = jsonReport<RedriveJson>(dryRun);
    assert.equal(predicted.dryRun, true);
    assert.equal(predicted.sent, 1);
    assert.deepEqual(predicted.wouldFailAgain, {
      'data.unknown_field': 1,
      'tenant.unknown': 1,
      'decode.malformed': 1,
    });
    assert.equal(await messagesOnTopic(fixture.topics.updateRequested), inputBefore);

    const redriven = await dlq(['redrive', '--json']);
    assert.equal(redriven.code, 0, redriven.stderr);
    const report = jsonReport<RedriveJson>(redriven);
    assert.deepEqual([report.sent, report.heldBack, report.alreadyRedriven], [1, 3, 0]);
    assert.equal(await messagesOnTopic(fixture.topics.updateRequested), inputBefore + 1);

    const row = await waitFor('the redriven event to apply', async () => {
      const customer = await fixture.customer('tenant-a', 'fix-1');
      return customer?.task_type === 'sales' && customer;
    });
    assert.equal(row.first_name, 'Fixable');
    await waitFor('its customer.updated', () =>
      fixture.updated
        .json<CustomerUpdated>()
        .find((event) => event.causationId === fixable.eventId),
    );

    const input = await recordTopic(fixture.topics.updateRequested);
    const [sentBack] = await waitFor('the redriven message', () => {
      const found = input.messages.filter((message) => message.headers['redrive.source']);
      return found.length > 0 && found;
    });
    const letter = fixture.deadLetters.messages.find(
      (message) => message.headers['error.code'] === 'tenant.task_type_not_allowed',
    );
    assert.ok(sentBack && letter);
    assert.equal(sentBack.key, 'tenant-a:fix-1');
    assert.deepEqual(sentBack.value, letter.value);
    assert.equal(
      sentBack.headers['redrive.source'],
      `${fixture.topics.deadLetter}:${letter.partition}:${letter.offset}`,
    );
    assert.equal(sentBack.headers['redrive.count'], '1');
    assert.equal(sentBack.headers['error.code'], undefined, 'our error headers are taken off');

    const again = jsonReport<RedriveJson>(await dlq(['redrive', '--json']));
    assert.deepEqual([again.sent, again.alreadyRedriven], [0, 1]);
    assert.equal(await messagesOnTopic(fixture.topics.updateRequested), inputBefore + 1);

    const listed = await dlq(['list', '--code', 'tenant.task_type_not_allowed', '--json']);
    assert.equal(jsonReport<ListedJson>(listed).redriven, true);
  });

  it('refuses bad arguments with one line and exit code 2', async () => {
    const cases: Array<[string[], RegExp]> = [
      [[], /expected 'list', 'show' or 'redrive'/],
      [['show'], /expected one <partition:offset>/],
      [['show', 'zero:1'], /expected one <partition:offset>/],
      [['list', '--limit', '0'], /--limit must be/],
      [['redrive', '--since', 'last week'], /--since must be an RFC 3339 time/],
      [['redrive', '--code', 'nope'], /'nope' is not an error code/],
    ];
    for (const [args, message] of cases) {
      const result = await dlq(args);
      assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
      assert.match(result.stderr, message);
      assert.equal(result.stderr.trim().split('\n').length, 1, result.stderr);
    }
  });
});

describe('dlq: what a producer wrote is shown, never obeyed (issue 14)', () => {
  const ESC = '\u001b';
  const hostileKey = `tenant-a:${ESC}]0;pwned${ESC}\\evil${ESC}[2J`;
  let fixture: Awaited<ReturnType<typeof startPipelineFixture>>;
  let env: Record<string, string>;

  before(async () => {
    fixture = await startPipelineFixture({ partitions: 1 });
    env = cliEnvironment({ topics: fixture.topics });
    await fixture.newService().start();
    await fixture.publishRaw([
      {
        key: hostileKey,
        value: `{not json${ESC}[31m`,
        headers: {
          [`x-${ESC}[31mred`]: `${ESC}[2Jcleared\u009b31m`,
          // A producer's own reasons must not become the letter's.
          'error.path': 'data.forged',
          'error.code': 'forged.code',
          'replay.run-id': 'forged-run',
        },
      },
    ]);
    await fixture.deadLetters.waitForCount(1);
  });

  /** No byte a terminal would act on: ESC, other C0 and C1 controls. */
  // biome-ignore lint/suspicious/noControlCharactersInRegex: asserting that none is printed
  const TERMINAL_CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/u;

  it('escapes control characters in keys, header names and values in list and show', async () => {
    const list = await runCli(['dlq', 'list'], { env });
    assert.equal(list.code, 0, list.stderr);
    assert.doesNotMatch(list.stdout, TERMINAL_CONTROL);
    assert.ok(list.stdout.includes('tenant-a:\\x1b]0;pwned\\x1b\\\\evil\\x1b[2J'), list.stdout);
    assert.match(list.stdout, /decode\.malformed/);
    assert.doesNotMatch(list.stdout, /forged/);

    const where = `0:${fixture.deadLetters.messages[0]?.offset}`;
    const shown = await runCli(['dlq', 'show', where, '--reveal'], { env });
    assert.equal(shown.code, 0, shown.stderr);
    assert.doesNotMatch(shown.stdout, TERMINAL_CONTROL);
    assert.match(shown.stdout, /header x-\\x1b\[31mred\s+\\x1b\[2Jcleared\\x9b31m/);
    assert.match(shown.stdout, /\{not json\\x1b\[31m/);
    // The letter's reasons are the service's; the producer's headers are shown as its headers.
    assert.match(shown.stdout, /^error\.code\s+decode\.malformed$/m);
    assert.doesNotMatch(shown.stdout, /^error\.path/m);
    assert.doesNotMatch(shown.stdout, /^replay\.run-id/m);
    assert.match(shown.stdout, /^header error\.path\s+data\.forged$/m);

    for (const args of [
      ['list', '--json'],
      ['show', where, '--reveal', '--json'],
    ]) {
      const json = await runCli(['dlq', ...args], { env });
      assert.equal(json.code, 0, json.stderr);
      assert.doesNotMatch(json.stdout, TERMINAL_CONTROL);
      assert.doesNotMatch(json.stdout, /[\u0080-\u009f]/u);
      const parsed = JSON.parse(json.stdout.trim().split('\n')[0] ?? '') as { key: string };
      assert.equal(parsed.key, hostileKey, 'JSON output still carries the exact key');
    }
  });
});
