/**
 * deploy/prometheus/alerts.yml, checked and unit-tested by Prometheus' own promtool (Debian's
 * `prometheus` package, installed when missing) on the synthetic series of alerts.test.yml;
 * every alert has a test that fires it and a runbook entry in the README.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { runCommand } from '../../dev/run-command.ts';
import { ensureDebianTool } from '../support/debian-tool.ts';

const path = (file: string) => fileURLToPath(new URL(`../../${file}`, import.meta.url));
const ALERTS = path('deploy/prometheus/alerts.yml');
const ALERT_TESTS = path('deploy/prometheus/alerts.test.yml');

interface RuleFile {
  groups: Array<{ rules: Array<{ alert?: string; annotations?: Record<string, string> }> }>;
}
interface RuleTests {
  tests: Array<{ alert_rule_test: Array<{ alertname: string; exp_alerts: unknown[] }> }>;
}

const alerts = (parse(readFileSync(ALERTS, 'utf8')) as RuleFile).groups.flatMap(({ rules }) =>
  rules.filter((rule) => rule.alert !== undefined),
);
const ruleTests = (parse(readFileSync(ALERT_TESTS, 'utf8')) as RuleTests).tests.flatMap(
  (test) => test.alert_rule_test,
);

describe('alert rules (deploy/prometheus/alerts.yml)', () => {
  it('are valid Prometheus rules', async () => {
    const promtool = await ensureDebianTool('promtool', 'prometheus');
    const { stdout } = await runCommand(promtool, ['check', 'rules', ALERTS]);
    assert.match(stdout, new RegExp(`SUCCESS: ${alerts.length} rules found`));
  });

  it('fire, and stay silent, as alerts.test.yml expects on synthetic series', async () => {
    const promtool = await ensureDebianTool('promtool', 'prometheus');
    const { stdout } = await runCommand(promtool, ['test', 'rules', ALERT_TESTS]);
    assert.match(stdout, /SUCCESS/);
  });

  it('each have a test where they fire and one where they do not', () => {
    for (const { alert } of alerts) {
      const cases = ruleTests.filter(({ alertname }) => alertname === alert);
      assert.ok(
        cases.some(({ exp_alerts }) => exp_alerts.length > 0),
        `${alert} has a test where it fires`,
      );
      assert.ok(
        cases.some(({ exp_alerts }) => exp_alerts.length === 0),
        `${alert} has a test where it stays silent`,
      );
    }
  });

  it('each point at a runbook entry of the README', () => {
    const readme = readFileSync(path('README.md'), 'utf8');
    for (const { alert, annotations } of alerts) {
      assert.equal(annotations?.runbook, `README.md#${alert?.toLowerCase()}`);
      const entry = readme.indexOf(`#### ${alert}\n`);
      assert.ok(entry >= 0, `the README has a "#### ${alert}" runbook entry`);
      const text = readme.slice(entry, readme.indexOf('\n####', entry + 1));
      for (const part of ['What it means', 'How to confirm', 'What to do'])
        assert.ok(text.includes(`**${part}**`), `the runbook of ${alert} says ${part}`);
      assert.match(text, /```sh\n/, `the runbook of ${alert} gives the commands`);
    }
  });
});
