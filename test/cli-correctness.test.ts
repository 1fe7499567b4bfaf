import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendAuditEvent } from '../src/store/audit.ts';
import { claimNextDelivery, enqueueDelivery, markDelivered } from '../src/store/deliveries.ts';
import { openSqlite } from '../src/store/open-store.ts';
import { runCli } from './support/run-cli.ts';

describe('CLI correctness (issue 18, item 5)', () => {
  let dir: string;
  let db: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'afs-cli-'));
    db = join(dir, 'state.db');
    const store = openSqlite({ sqlitePath: db });
    enqueueDelivery(store.db, { reportId: 'rep_delivered', studyId: 'stu_1', source: 'webhook' }, 1000);
    markDelivered(store.db, claimNextDelivery(store.db, 1000, 60_000)!, { refs: {}, contentHash: 'x' }, 2000);
    for (let i = 0; i < 2000; i++) appendAuditEvent(store.db, { reportId: `rep_${i}`, event: 'received', at: 3000 + i, detail: {} });
    store.close();
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('retry exits 1 for a report it does not know, and for one that is delivered', async () => {
    const unknown = await runCli(['retry', 'rep_unknown'], { SQLITE_PATH: db });
    expect(unknown.code).toBe(1);
    expect(unknown.stdout).toBe('rep_unknown: no delivery of this report here\n');
    const delivered = await runCli(['retry', 'rep_delivered'], { SQLITE_PATH: db });
    expect(delivered.code).toBe(1);
    expect(delivered.stdout).toBe('rep_delivered: not failed, dead or skipped; nothing to retry\n');
  });

  it('read-only commands refuse a database that does not exist, naming SQLITE_PATH and the path, and create nothing', async () => {
    const missing = join(dir, 'typo', 'state.db');
    for (const args of [['status'], ['audit', 'verify'], ['retry', 'rep_x'], ['replay', 'rep_x'], ['audit', 'export', '--since', '2026-01-01']]) {
      const result = await runCli(args, { SQLITE_PATH: missing });
      expect(result.code, args.join(' ')).toBe(1);
      expect(result.stderr, args.join(' ')).toContain(`no database at ${missing} (SQLITE_PATH)`);
    }
    expect(existsSync(join(dir, 'typo'))).toBe(false);
  });

  it('prints its version', async () => {
    const result = await runCli(['--version'], {});
    expect(result.code).toBe(0);
    expect(result.stdout.trim()).toBe((JSON.parse(readFileSync('package.json', 'utf8')) as { version: string }).version);
  });

  it('audit export | head ends quietly: the reader closing the pipe is not a crash', async () => {
    const { stdout, stderr } = await promisify(execFile)('bash', ['-o', 'pipefail', '-c', `node src/cli-entry.mjs audit export --since 1970-01-01 | head -n 2; echo "status \${PIPESTATUS[0]}"`], {
      env: { PATH: process.env.PATH ?? '', SQLITE_PATH: db },
    }).catch((error: { stdout: string; stderr: string }) => error);
    expect(stdout).toMatch(/status 0\n$/);
    expect(stderr).not.toMatch(/EPIPE|Error/);
  });
});
