import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BACKFILL_LOCK } from '../src/deliveries/backfill-lock.ts';
import { openSqlite } from '../src/store/open-store.ts';
import { readLock, tryAcquireLocks } from '../src/store/locks.ts';
import { runCli } from './support/run-cli.ts';
import { startStandIns, type StandIns } from './support/start-stand-ins.ts';
import { waitFor } from './support/wait-for.ts';

const DAY_MS = 86_400_000;
const SINCE = new Date(Date.now() - 40 * DAY_MS).toISOString().slice(0, 10);

/** Only what backfill reads: Avara's URL and API key, the database, the request rate. */
function backfillEnv(standIns: StandIns, extra: Record<string, string> = {}): Record<string, string> {
  const { AVARA_BASE_URL, AVARA_API_KEY, SQLITE_PATH } = standIns.connectionEnv();
  return { PATH: process.env.PATH ?? '', AVARA_BASE_URL, AVARA_API_KEY, SQLITE_PATH, POLL_MAX_REQUESTS_PER_SECOND: '1000', ...extra };
}

function countRows(standIns: StandIns): number {
  const store = openSqlite({ sqlitePath: standIns.sqlitePath, migrate: false });
  try {
    return (store.sqlite.prepare('SELECT count(*) AS n FROM deliveries').get() as { n: number }).n;
  } finally {
    store.close();
  }
}

/** A backfill child, slow enough to be caught mid-sweep, resolved once its first progress line is out. */
async function startSlowBackfill(standIns: StandIns, args: string[] = []) {
  const child = spawn(process.execPath, ['src/cli-entry.mjs', 'backfill', '--since', SINCE, ...args], { env: backfillEnv(standIns, { POLL_MAX_REQUESTS_PER_SECOND: '15' }) });
  const output = { stdout: '', stderr: '' };
  child.stdout.on('data', (chunk: Buffer) => (output.stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output.stderr += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  await waitFor('the first progress line', () => /^pages 1 \|/m.test(output.stdout), 30_000);
  return { child, output, exited };
}

describe('backfill edges', () => {
  let standIns: StandIns | undefined;
  afterEach(async () => {
    await standIns?.stop();
    standIns = undefined;
  });

  it('takes over the lock of a backfill killed with SIGKILL, saying so, and enqueues the rest', async () => {
    standIns = await startStandIns({ sandbox: { seed: 21, studies: 150 } });
    const { child, exited } = await startSlowBackfill(standIns);
    child.kill('SIGKILL');
    expect((await exited).signal).toBe('SIGKILL');
    const store = openSqlite({ sqlitePath: standIns.sqlitePath, migrate: false });
    const lock = readLock(store.db, BACKFILL_LOCK);
    store.close();
    expect(lock?.expiresAt).toBeGreaterThan(Date.now()); // still held: a kill -9 releases nothing
    const partial = countRows(standIns);
    expect(partial).toBeGreaterThan(0);

    const rest = await runCli(['backfill', '--since', SINCE], backfillEnv(standIns));
    expect(rest.code, rest.stderr).toBe(0);
    expect(rest.stderr).toContain(`backfill: took over the lock of backfill process ${child.pid} on ${hostname()}, which is no longer running (killed?)`);
    expect(rest.stdout).toContain(`backfill complete: 2 pages, 150 studies, ${150 - partial} signed reports in range, ${150 - partial} enqueued, ${partial} already known`);
    expect(countRows(standIns)).toBe(150);
  }, 90_000);

  it('refuses to run beside a live backfill, naming its process and when its lock lapses', async () => {
    standIns = await startStandIns({ sandbox: { seed: 22, studies: 3 } });
    const store = openSqlite({ sqlitePath: standIns.sqlitePath });
    const holder = `${hostname()}/${process.pid}/${crypto.randomUUID()}`;
    expect(tryAcquireLocks(store.db, [BACKFILL_LOCK], holder, Date.now() + 60_000, Date.now())).toBe(true);
    store.close();
    const busy = await runCli(['backfill', '--since', SINCE], backfillEnv(standIns));
    expect(busy.code).toBe(1);
    expect(busy.stderr).toMatch(new RegExp(`another backfill \\(process ${process.pid} on ${hostname()}\\) is running on this database; .* its lock lapses at \\d{4}-\\d\\d-\\d\\dT`));
    expect(countRows(standIns)).toBe(0);
  });

  it('refuses --until before --since with exit 1, creating nothing', async () => {
    standIns = await startStandIns({ sandbox: { seed: 23, studies: 3 } });
    const path = join(standIns.dir, 'untouched.db');
    const result = await runCli(['backfill', '--since', '2026-02-01', '--until', '2026-01-31'], backfillEnv(standIns, { SQLITE_PATH: path }));
    expect(result.code).toBe(1);
    expect(result.stderr.trim()).toBe('avara-fhir-sync: --until 2026-01-31 is before --since 2026-02-01: that range holds no day; nothing was enqueued');
    expect(existsSync(path)).toBe(false);
  });

  it('says on Ctrl-C of a dry run that nothing was enqueued and the counts are partial', async () => {
    standIns = await startStandIns({ sandbox: { seed: 24, studies: 150 } });
    const { child, output, exited } = await startSlowBackfill(standIns, ['--dry-run']);
    child.kill('SIGINT');
    expect((await exited).code).toBe(130);
    expect(output.stderr).toContain('backfill: stopping after the study at hand (dry run: nothing is enqueued); Ctrl-C again to exit at once');
    expect(output.stdout).toMatch(/^backfill dry run interrupted \(nothing was enqueued; the counts cover only the studies seen so far\): \d+ pages, \d+ studies, \d+ signed reports in range, \d+ would be enqueued \(dry run\)/m);
    expect(output.stdout).not.toContain('stays queued');
    expect(countRows(standIns)).toBe(0);
  }, 90_000);

  it('runs with the Avara API key alone: no webhook key, FHIR server or mapping settings', async () => {
    standIns = await startStandIns({ sandbox: { seed: 25, studies: 4 } });
    const env = backfillEnv(standIns);
    expect(Object.keys(env).filter((name) => /WEBHOOK|FHIR|MRN|ZONE/.test(name))).toEqual([]);
    const result = await runCli(['backfill', '--since', SINCE], env);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('backfill complete: 1 pages, 4 studies, 4 signed reports in range, 4 enqueued');
  });

  it('records who ran it and why on every enqueued audit row (an operator action like retry)', async () => {
    standIns = await startStandIns({ sandbox: { seed: 26, studies: 3 } });
    const result = await runCli(['backfill', '--since', SINCE, '--reason', 'go-live history, change CHG-118'], backfillEnv(standIns, { USER: 'ops-anna' }));
    expect(result.code, result.stderr).toBe(0);
    const store = openSqlite({ sqlitePath: standIns.sqlitePath, migrate: false });
    try {
      const rows = (store.sqlite.prepare("SELECT detail FROM audit_events WHERE event = 'enqueued'").all() as { detail: string }[]).map((row) => JSON.parse(row.detail) as Record<string, unknown>);
      expect(rows).toHaveLength(3);
      for (const detail of rows) {
        expect(detail).toMatchObject({ source: 'backfill', by: 'cli', reason: 'go-live history, change CHG-118' });
        expect(detail.operator).toMatch(/^cli:\S+$/);
      }
    } finally {
      store.close();
    }
  });
});
