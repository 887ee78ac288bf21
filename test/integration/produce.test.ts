import assert from 'node:assert/strict';
import { createReadStream } from 'node:fs';
import { mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { registerCleanup } from '../support/cleanup.ts';
import { cliEnvironment, runCli } from '../support/run-cli.ts';
import { createTestTopics, messagesOnTopic, type TestTopics } from '../support/test-environment.ts';
import { recordTopic } from '../support/topic-recorder.ts';
import { anUpdateRequest } from '../support/update-request-builder.ts';

/** Peak RSS allowed for 100k lines of ~2 KB (a 200 MB file): far below holding the file. */
const PEAK_RSS_LIMIT_MIB = 360;

const line = (externalId: string) =>
  JSON.stringify(anUpdateRequest().withExternalId(externalId).build());

describe('produce: events from an NDJSON file or standard input', () => {
  let directory: string;
  let topics: TestTopics;
  let env: Record<string, string>;

  before(async () => {
    directory = await mkdtemp(join(tmpdir(), 'customer-sync-produce-'));
    registerCleanup(() => rm(directory, { recursive: true, force: true }));
    topics = await createTestTopics(3);
    env = cliEnvironment({ topics });
  });

  async function fileOf(name: string, lines: string[]): Promise<string> {
    const path = join(directory, name);
    await writeFile(path, `${lines.join('\n')}\n`);
    return path;
  }

  it('sends the lines before a malformed line, reports its number, and nothing after it', async () => {
    const topic = (await createTestTopics(1)).updateRequested;
    const file = await fileOf('malformed.ndjson', [
      line('m-1'),
      '',
      line('m-2'),
      '{"tenantId": "tenant-a", oops',
      line('m-3'),
    ]);
    const recorder = await recordTopic(topic);

    const result = await runCli(['produce', '--file', file, '--topic', topic], { env });

    assert.equal(result.code, 1);
    assert.match(result.stderr, /line 4 is not valid JSON/);
    assert.match(result.stderr, /2 sent .* stopped at line 4: nothing after it was sent/);
    assert.equal(await messagesOnTopic(topic), 2);
    const sent = await recorder.waitForCount(2);
    assert.deepEqual(sent.map((message) => message.key).sort(), ['tenant-a:m-1', 'tenant-a:m-2']);

    const skipping = await runCli(
      ['produce', '--file', file, '--topic', topic, '--continue-on-error'],
      { env },
    );
    assert.equal(skipping.code, 1);
    assert.match(skipping.stderr, /3 sent .*, 1 bad line/);
    assert.equal(await messagesOnTopic(topic), 5);

    const resumed = await runCli(
      ['produce', '--file', file, '--topic', topic, '--start-line', '5'],
      { env },
    );
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.equal(await messagesOnTopic(topic), 6);
  });

  it("reads standard input with '--file -' and keys each event by tenant and customer", async () => {
    const { updateRequested } = await createTestTopics(3);
    const recorder = await recordTopic(updateRequested);
    const result = await runCli(['produce', '--file', '-', '--topic', updateRequested], {
      env,
      stdin: `${[line('s-1'), line('s-2'), line('s-3')].join('\n')}\n`,
    });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /3 sent/);
    const sent = await recorder.waitForCount(3);
    assert.deepEqual(sent.map((message) => message.key).sort(), [
      'tenant-a:s-1',
      'tenant-a:s-2',
      'tenant-a:s-3',
    ]);
    const values = sent.map((message) => JSON.parse(message.value?.toString() ?? '{}'));
    assert.deepEqual(values.map((value) => value.externalId).sort(), ['s-1', 's-2', 's-3']);
  });

  it('sends 100k lines with progress, in bounded memory, from a file and from standard input', async () => {
    const path = join(directory, 'large.ndjson');
    const file = await open(path, 'w');
    const padding = 'x'.repeat(1_800);
    let chunk = '';
    for (let index = 0; index < 100_000; index++) {
      chunk += `${JSON.stringify(
        anUpdateRequest().withExternalId(`bulk-${index}`).withMetadata({ padding }).build(),
      )}\n`;
      if (chunk.length > 1_000_000) {
        await file.write(chunk);
        chunk = '';
      }
    }
    await file.write(chunk);
    await file.close();

    const fromFile = await runCli(['produce', '--file', path], {
      env: { ...env, CI: 'true' },
      measurePeakRss: true,
    });
    assert.equal(fromFile.code, 0, fromFile.stderr);
    assert.match(fromFile.stderr, /produce: 100000 sent/);
    const progressLines = fromFile.stderr.split('\n').filter((text) => /produce: \d+% /.test(text));
    assert.ok(progressLines.length >= 5, `progress lines: ${fromFile.stderr}`);
    assert.ok(fromFile.peakRssKib !== undefined);
    assert.ok(
      fromFile.peakRssKib < PEAK_RSS_LIMIT_MIB * 1024,
      `peak RSS ${Math.round(fromFile.peakRssKib / 1024)} MiB`,
    );
    assert.equal(await messagesOnTopic(topics.updateRequested), 100_000);

    const fromStdin = await runCli(['produce', '--file', '-'], {
      env: { ...env, CI: 'true' },
      stdin: createReadStream(path),
      measurePeakRss: true,
    });
    assert.equal(fromStdin.code, 0, fromStdin.stderr);
    assert.match(fromStdin.stderr, /produce: 100000 sent/);
    assert.ok(
      (fromStdin.peakRssKib ?? Number.POSITIVE_INFINITY) < PEAK_RSS_LIMIT_MIB * 1024,
      `peak RSS ${Math.round((fromStdin.peakRssKib ?? 0) / 1024)} MiB`,
    );
    assert.equal(await messagesOnTopic(topics.updateRequested), 200_000);
  });

  it('refuses bad arguments with one line and exit code 2, and sends nothing', async () => {
    const file = await fileOf('ok.ndjson', [line('x-1')]);
    const cases: Array<[string[], RegExp]> = [
      [[], /--file is required/],
      [['--file', join(directory, 'missing.ndjson')], /cannot read --file/],
      [['--file', directory], /is a directory/],
      [['--file', file, '--start-line', '0'], /--start-line must be/],
      [['--file', file, '--topic', 'no.such.topic'], /topic no\.such\.topic does not exist/],
      [
        ['--file', file, '--bogus'],
        /unknown option --bogus \(customer-sync produce --help shows the usage\)/,
      ],
    ];
    const before = await messagesOnTopic(topics.updateRequested);
    for (const [args, message] of cases) {
      const result = await runCli(['produce', ...args], { env });
      assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
      assert.match(result.stderr, message);
      assert.equal(result.stderr.trim().split('\n').length, 1, result.stderr);
    }
    assert.equal(await messagesOnTopic(topics.updateRequested), before);
  });
});
