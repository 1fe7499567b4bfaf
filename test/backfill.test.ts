import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { WORKER_IN_MAIN_THREAD } from './support/serve-test-settings.ts';
import { startTestEnv, type TestEnv } from './support/test-env.ts';
import { HANG_GUARD_MS } from './support/wait-for.ts';
import { sqliteOf } from './support/sqlite-of.ts';

const run = promisify(execFile);
const DAY_MS = 86_400_000;

function backfillEnv(env: TestEnv): Record<string, string> {
  return env.serveEnv({ POLL_MAX_REQUESTS_PER_SECOND: '1000' });
}

function backfill(env: TestEnv, args: string[]) {
  return run(process.execPath, ['src/cli-entry.mjs', 'backfill', ...args], { env: backfillEnv(env), maxBuffer: 10 * 1024 * 1024 });
}

function countRows(env: TestEnv): number {
  return (sqliteOf(env.app).sqlite.prepare('SELECT count(*) AS n FROM deliveries').get() as { n: number }).n;
}

const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);

describe('backfill --since', () => {
  let env: TestEnv;
  afterEach(() => env.stop());

  it('enqueues exactly the reports signed in range over 2,000 studies, idempotently, while serve delivers them', async () => {
    env = await startTestEnv({ env: { WORKER_CONCURRENCY: '8', SHUTDOWN_GRACE_SECONDS: '0' }, sandbox: { studies: 2000 } });
    const since = day(Date.now() - 2 * DAY_MS);
    const until = since;
    const inRange = env.sandbox.allReportStates().filter(({ report }) => {
      const signed = Date.parse(report.signedAt ?? '');
      return signed >= Date.parse(`${since}T00:00:00Z`) && signed < Date.parse(`${until}T00:00:00Z`) + DAY_MS;
    });
    expect(inRange.length).toBeGreaterThan(20);

    const dry = await backfill(env, ['--since', since, '--until', until, '--dry-run']);
    expect(dry.stdout).toContain(`${inRange.length} would be enqueued (dry run)`);
    expect(Object.values((await env.app.store.deliveries.countByState())).reduce((a, b) => a + b, 0)).toBe(0);

    const first = await backfill(env, ['--since', since, '--until', until]);
    expect(first.stdout).toMatch(/^pages \d+ \| studies \d+/m);
    expect(first.stdout).toContain(`backfill complete: 20 pages, 2000 studies, ${inRange.length} signed reports in range, ${inRange.length} enqueued`);
    const second = await backfill(env, ['--since', since, '--until', until]);
    expect(second.stdout).toContain(', 0 enqueued');

    env.app.wake();
    await env.waitFor('the backfilled reports to be delivered', async () => (await env.app.store.deliveries.countByState()).delivered === inRange.length, env.untilQueueStalls);
    const reports = await env.fhirSearch('DiagnosticReport');
    expect(reports).toHaveLength(inRange.length);
    const ids = new Set(inRange.map(({ report }) => report.reportId));
    const rows = sqliteOf(env.app).sqlite.prepare("SELECT report_id AS id FROM deliveries WHERE source = 'backfill'").all() as { id: string }[];
    expect(new Set(rows.map((r) => r.id))).toEqual(ids);
  }, HANG_GUARD_MS);

  it('stops cleanly on Ctrl-C and enqueues the rest, without duplicates, when run again', async () => {
    env = await startTestEnv({ env: { SHUTDOWN_GRACE_SECONDS: '0', ...WORKER_IN_MAIN_THREAD }, sandbox: { studies: 150 } });
    await env.fhir.faults.down(); // keep the worker from delivering; the queue is under test
    const since = day(Date.now() - 40 * DAY_MS);
    const child = spawn(process.execPath, ['src/cli-entry.mjs', 'backfill', '--since', since], {
      env: { ...backfillEnv(env), POLL_MAX_REQUESTS_PER_SECOND: '15' },
    });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    await env.waitFor('the first progress line', () => /^pages 1 \|/m.test(stdout));
    child.kill('SIGINT');
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code).toBe(130);
    expect(stdout).toContain('backfill interrupted');
    const afterInterrupt = countRows(env);
    expect(afterInterrupt).toBeGreaterThan(0);
    expect(afterInterrupt).toBeLessThan(150);
    const rest = await backfill(env, ['--since', since]);
    expect(rest.stdout).toContain(`${150 - afterInterrupt} enqueued`);
    expect(countRows(env)).toBe(150);
  }, 60_000);

  it('refuses a malformed date with one clear line', async () => {
    env = await startTestEnv({ env: WORKER_IN_MAIN_THREAD });
    const failure = await backfill(env, ['--since', '2026-13-40']).catch((error: { code: number; stderr: string }) => error);
    expect((failure as { code: number }).code).toBe(1);
    expect((failure as { stderr: string }).stderr).toMatch(/since.*YYYY-MM-DD/);
  });
});
