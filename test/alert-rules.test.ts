import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePrometheusText } from './support/parse-prometheus-text.ts';
import { startTestEnv, type TestEnv } from './support/test-env.ts';

// Metrics the rules may use without this service exporting them (yet).
const FROM_ELSEWHERE = new Set([
  'avara_fhir_sync_poll_last_success_timestamp_seconds', // the reconciliation poller's, by agreement
  'up', // Prometheus's own, per scrape target
]);
const PROMQL_WORDS = new Set(['max', 'min', 'sum', 'rate', 'time', 'by', 'on', 'and', 'or', 'unless', 'increase', 'absent', 'humanize', 'humanizeDuration', 'max_over_time', 'offset']);

interface Rule { alert: string; expr: string; for?: string; severity?: string; summary?: string }

/**
 * Not a YAML parser (no new dependency): a structural reading of the one shape this file uses,
 * strict enough to catch tabs, a rule without `for:` or labels, and a lost indentation level.
 */
function readRules(text: string): Rule[] {
  expect(text).not.toMatch(/\t/);
  expect(text).toMatch(/^groups:\n {2}- name: \S+\n {4}rules:\n/m);
  const rules: Rule[] = [];
  for (const line of text.split('\n')) {
    const field = /^ {6}- alert: (\S+)$/.exec(line) ?? /^ {8}(expr|for): (.+)$/.exec(line) ?? /^ {10}(severity|summary): (.+)$/.exec(line);
    if (!field) continue;
    if (line.includes('- alert:')) rules.push({ alert: field[1]!, expr: '' });
    else Object.assign(rules.at(-1)!, { [field[1]!]: field[2]!.replace(/^"|"$/g, '') });
  }
  return rules;
}

describe('deploy/alerts.yml', () => {
  let env: TestEnv;
  let exported: Set<string>;
  const rules = readRules(readFileSync('deploy/alerts.yml', 'utf8'));

  beforeAll(async () => {
    env = await startTestEnv({ env: { ADMIN_TOKEN: 'alert-rules-token-000001' } });
    const text = await fetch(`${env.app.url}/metrics`, { headers: { authorization: 'Bearer alert-rules-token-000001' } }).then((r) => r.text());
    exported = new Set(parsePrometheusText(text).types.keys());
  });
  afterAll(async () => {
    await env.stop();
  });

  it('has the alerts the issue asks for, each with an expression, a for: clause, a severity and a summary', () => {
    expect(rules.map((r) => r.alert)).toEqual([
      'AvaraFhirSyncDown', 'AvaraFhirSyncReportsNotDelivered', 'AvaraFhirSyncDeadLetters', 'AvaraFhirSyncWebhookSignatureFailures',
      'AvaraFhirSyncAvaraAuthFailing', 'AvaraFhirSyncFhirAuthFailing', 'AvaraFhirSyncPollerNotCompleting', 'AvaraFhirSyncAdminTokenGuessing',
      'AvaraFhirSyncAuditRowsRemoved',
    ]);
    for (const rule of rules) {
      expect(rule.expr, rule.alert).not.toBe('');
      expect(rule.for, rule.alert).toMatch(/^\d+[smh]$/);
      expect(rule.severity, rule.alert).toBe('page');
      expect(rule.summary, rule.alert).toBeTruthy();
    }
  });

  it('passes promtool\'s own check and its unit tests (service down, never scraped, dead letters, a stuck queue, the poller off, recovery, audit rows removed)', async () => {
    // Prometheus's promtool judges the rules, not our reading of them (.ci/run installs Debian's prometheus).
    const run = promisify(execFile);
    await run('promtool', ['check', 'rules', 'alerts.yml'], { cwd: 'deploy' });
    const { stdout } = await run('promtool', ['test', 'rules', 'alerts.test.yml'], { cwd: 'deploy' });
    expect(stdout).toContain('SUCCESS');
  });

  it('uses only metrics this service exports (or the poller\'s, by name), with balanced brackets', () => {
    for (const rule of rules) {
      const names = (rule.expr.replace(/"[^"]*"/g, '').replace(/\[[^\]]*\]/g, '').replace(/offset \d+[smhdw]/g, '').match(/[a-zA-Z_:][a-zA-Z0-9_:]*/g) ?? []).filter((w) => !PROMQL_WORDS.has(w) && !/^\d/.test(w) && !['state', 'outcome', 'upstream', 'job'].includes(w));
      expect(names.length, rule.alert).toBeGreaterThan(0);
      for (const name of names) expect(exported.has(name) || FROM_ELSEWHERE.has(name), `${rule.alert} uses ${name}`).toBe(true);
      for (const [open, close] of [['(', ')'], ['{', '}'], ['[', ']']] as const) {
        expect(rule.expr.split(open).length, `${rule.alert} ${open}${close}`).toBe(rule.expr.split(close).length);
      }
    }
  });
});
