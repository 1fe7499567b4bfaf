import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './support/run-cli.ts';
import { startTestEnv, type TestEnv } from './support/test-env.ts';
import { sqliteOf } from './support/sqlite-of.ts';

describe('status, audit verify and audit export as child processes', () => {
  let env: TestEnv;
  let delivered: string[];
  let dead: string;
  const cli = (...args: string[]) => runCli(args, { SQLITE_PATH: sqliteOf(env.app).path });

  beforeAll(async () => {
    env = await startTestEnv({ env: { MAX_ATTEMPTS: '1' } });
    delivered = (await env.sandbox.signReports(2)).map((r) => r.reportId);
    for (const id of delivered) await env.waitForDelivery(id, 'delivered');
    dead = await env.deadLetterOneReport(); // MAX_ATTEMPTS=1
  });
  afterAll(() => env.stop());

  it('status --json reports counts, the last delivery and the dead letters with their codes', async () => {
    const result = await cli('status', '--json');
    expect(result.code).toBe(0);
    const status = JSON.parse(result.stdout) as { counts: Record<string, number>; lastDeliveredAt: string; oldestWaiting: unknown; deadLetters: { reportId: string; code: string }[] };
    expect(status.counts).toMatchObject({ delivered: 2, dead: 1, queued: 0 });
    expect(status.oldestWaiting).toBeNull();
    expect(Date.parse(status.lastDeliveredAt)).toBeGreaterThan(Date.now() - 60_000);
    expect(status.deadLetters).toEqual([expect.objectContaining({ reportId: dead, code: 'fhir_unavailable' })]);
  });

  it('status prints the same for people, with what to do about dead letters', async () => {
    const result = await cli('status');
    expect(result.stdout).toMatch(/^delivered\s+2$/m);
    expect(result.stdout).toContain('dead letters: 1');
    expect(result.stdout).toContain(`${dead}`);
    expect(result.stdout).toContain('retry --dead');
  });

  it('audit export writes CSV and NDJSON since a date: one record per audit row, ids and codes only', async () => {
    const today = new Date().toISOString().slice(0, 10);
    const rows = (sqliteOf(env.app).sqlite.prepare('SELECT count(*) AS n FROM audit_events').get() as { n: number }).n;
    const csv = await cli('audit', 'export', '--since', today);
    expect(csv.code).toBe(0);
    const lines = csv.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe('seq,at,reportId,event,attempt,code,by,operator,diagnosticReport,hash,prevHash');
    expect(lines).toHaveLength(rows + 1);
    expect(csv.stdout).toContain(`,${dead},dead,1,fhir_unavailable,`);
    const ndjson = await cli('audit', 'export', '--since', today, '--format', 'ndjson');
    const records = ndjson.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as { event: string; diagnosticReport: string | null });
    expect(records).toHaveLength(rows);
    expect(records.filter((r) => r.event === 'delivered').every((r) => r.diagnosticReport?.startsWith('DiagnosticReport/'))).toBe(true);
    const tomorrow = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
    expect((await cli('audit', 'export', '--since', tomorrow)).stdout.trimEnd().split('\n')).toHaveLength(1);
  });

  it('audit export refuses a malformed date or format with exit 1', async () => {
    expect((await cli('audit', 'export', '--since', '2026-02-30')).code).toBe(1);
    const format = await cli('audit', 'export', '--since', '2026-01-01', '--format', 'xml');
    expect(format.code).toBe(1);
    expect(format.stderr).toContain('must be csv or ndjson');
  });

  it('audit verify passes an intact chain, and names the first altered row after tampering through another connection', async () => {
    const intact = await cli('audit', 'verify');
    expect(intact.code).toBe(0);
    expect(intact.stdout).toMatch(/audit chain intact: \d+ rows/);

    const target = (sqliteOf(env.app).sqlite.prepare("SELECT seq FROM audit_events WHERE event = 'dead'").get() as { seq: number }).seq;
    const intruder = new Database(sqliteOf(env.app).path);
    expect(() => intruder.prepare("UPDATE audit_events SET detail = '{}' WHERE seq = ?").run(target)).toThrow(/append-only/);
    intruder.exec('DROP TRIGGER audit_events_no_update');
    intruder.prepare(`UPDATE audit_events SET detail = json_set(detail, '$.code', 'patient_mismatch') WHERE seq = ?`).run(target);
    intruder.close();

    const broken = await cli('audit', 'verify');
    expect(broken.code).toBe(1);
    expect(broken.stdout).toContain(`BROKEN at seq ${target}`);
  });
});
