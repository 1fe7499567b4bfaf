import Database from 'better-sqlite3';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeAuditExport } from '../src/commands/audit-export.ts';
import { formatChainVerdict } from '../src/commands/format-chain-verdict.ts';
import { verifyAuditFile } from '../src/commands/verify-audit-file.ts';
import { createMetrics } from '../src/metrics/create-metrics.ts';
import { appendAuditEvent, verifyAuditChain } from '../src/store/audit.ts';
import { parseExpectedHead, type ExpectedHead } from '../src/store/audit-chain.ts';
import { openSqliteStore, type SqliteStore } from '../src/store/sqlite/sqlite-store.ts';
import { parsePrometheusText } from './support/parse-prometheus-text.ts';
import { runCli } from './support/run-cli.ts';

const DAY = 86_400_000;
const JAN_1 = Date.parse('2026-01-01T00:00:00Z');

/** Rows on 2026-01-01 and 2026-01-02, with details as the product writes them (messages, an operator's reason). */
function seedAuditRows(store: SqliteStore, perDay: number): void {
  for (let day = 0; day < 2; day++) {
    for (let i = 0; i < perDay; i++) {
      const at = JAN_1 + day * DAY + i * 1000;
      appendAuditEvent(store.connection.db, { reportId: `rep_${day}_${i}`, event: 'attempt_failed', at, detail: { target: 'fhir', code: 'fhir_unavailable', message: 'FHIR server answered 503', attempt: 1 } });
      appendAuditEvent(store.connection.db, { reportId: `rep_${day}_${i}`, event: 'retried', at: at + 1, detail: { target: 'fhir', by: 'api', operator: 'alice', reason: 'EHR back after "maintenance", ticket #4411' } });
    }
  }
}

function headOf(store: SqliteStore): { rows: number; hash: string } {
  const row = store.connection.sqlite.prepare('SELECT count(*) AS rows, (SELECT hash FROM audit_events ORDER BY seq DESC LIMIT 1) AS hash FROM audit_events').get() as { rows: number; hash: string };
  return row;
}

/** What a person with the sqlite3 shell can do: drop the append-only trigger and delete the newest rows. */
function deleteNewestRows(path: string, count: number): void {
  const intruder = new Database(path);
  intruder.exec('DROP TRIGGER IF EXISTS audit_events_no_delete');
  intruder.prepare('DELETE FROM audit_events WHERE seq > (SELECT max(seq) FROM audit_events) - ?').run(count);
  intruder.close();
}

/** `audit verify [--expect-head]` as the CLI runs it, in this process: its output and exit code. */
function verifyDatabase(store: SqliteStore, expectHead?: string): { code: number; stdout: string } {
  const expected = expectHead === undefined ? undefined : parseExpectedHead(expectHead)!;
  const verdict = verifyAuditChain(store.connection.db, expected);
  return { code: verdict.ok ? 0 : 1, stdout: formatChainVerdict(verdict, 'audit chain', expected) };
}

async function verifyFile(file: string, expectHead?: string): Promise<{ code: number; stdout: string }> {
  const expected: ExpectedHead | undefined = expectHead === undefined ? undefined : parseExpectedHead(expectHead)!;
  const verdict = await verifyAuditFile(file, expected);
  return { code: verdict.ok ? 0 : 1, stdout: formatChainVerdict(verdict, 'audit export', expected) };
}

async function exportNdjson(store: SqliteStore, file: string, since = JAN_1): Promise<string> {
  let text = '';
  await writeAuditExport(store, since, 'ndjson', (chunk) => (text += chunk));
  writeFileSync(file, text);
  return text;
}

describe('audit verify: the head of the chain', () => {
  let dir: string;
  let path: string;
  let store: SqliteStore;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'afs-audit-head-'));
    path = join(dir, 'state.db');
    store = openSqliteStore({ sqlitePath: path });
    seedAuditRows(store, 5);
  });
  afterEach(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('prints the head as rows:hash of the last row, and passes when --expect-head is that head or a 12-digit prefix of an older one', () => {
    const head = headOf(store);
    const plain = verifyDatabase(store);
    expect(plain.code).toBe(0);
    expect(plain.stdout).toBe(`audit chain intact: ${head.rows} rows\nhead ${head.rows}:${head.hash}\n`);

    const exact = verifyDatabase(store, `${head.rows}:${head.hash}`);
    expect(exact.code).toBe(0);
    expect(exact.stdout).toContain('found (0 rows after it)');
    const third = (store.connection.sqlite.prepare('SELECT hash FROM audit_events WHERE seq = 3').get() as { hash: string }).hash;
    const older = verifyDatabase(store, `3:${third.slice(0, 12).toUpperCase()}`);
    expect(older.code).toBe(0);
    expect(older.stdout).toContain(`found (${head.rows - 3} rows after it)`);
  });

  it('exits 1 when the newest rows were deleted behind the triggers, although the shorter chain is intact in itself', async () => {
    const head = headOf(store);
    deleteNewestRows(path, 3);

    const cli = (...args: string[]) => runCli(['audit', 'verify', ...args], { SQLITE_PATH: path });
    expect((await cli()).code).toBe(0);
    const checked = await cli('--expect-head', `${head.rows}:${head.hash}`);
    expect(checked.code).toBe(1);
    expect(checked.stdout).toContain(`expected head ${head.rows}:${head.hash} MISSING: the chain ends at row ${head.rows - 3}; rows after it were deleted`);
  });

  it('fails when the newest rows were deleted and others appended since, so the count is back', () => {
    const head = headOf(store);
    deleteNewestRows(path, 3);
    for (let i = 0; i < 5; i++) appendAuditEvent(store.connection.db, { reportId: 'rep_new', event: 'received', at: JAN_1 + 3 * DAY + i, detail: {} });

    const checked = verifyDatabase(store, `${head.rows}:${head.hash.slice(0, 16)}`);
    expect(checked.code).toBe(1);
    expect(checked.stdout).toContain(`DIFFERS: row ${head.rows} has hash`);
  });

  it('refuses a malformed --expect-head with exit 1, naming the format', async () => {
    for (const bad of ['20', '20:abc', 'x:0123456789abcdef', `20:${'g'.repeat(64)}`, `20:${'a'.repeat(65)}`]) expect(parseExpectedHead(bad)).toBeUndefined();
    const result = await runCli(['audit', 'verify', '--expect-head', '20:abc'], { SQLITE_PATH: path });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('must be <rows>:<hash>');
  });
});

describe('audit export -> audit verify --file', () => {
  let dir: string;
  let path: string;
  let store: SqliteStore;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'afs-audit-file-'));
    path = join(dir, 'state.db');
    store = openSqliteStore({ sqlitePath: path });
    seedAuditRows(store, 4);
  });
  afterEach(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('round-trips through the commands: the export verifies without the database and prints the same head', async () => {
    const file = join(dir, 'export.jsonl');
    const exported = await runCli(['audit', 'export', '--since', '2026-01-01', '--format', 'ndjson'], { SQLITE_PATH: path });
    expect(exported.code).toBe(0);
    writeFileSync(file, exported.stdout);
    const head = headOf(store);
    expect(JSON.parse(exported.stdout.split('\n')[0]!)).toMatchObject({ seq: 1, prevHash: '0'.repeat(64), detail: { code: 'fhir_unavailable' } });

    // SQLITE_PATH names no file: the check needs nothing but the export.
    const result = await runCli(['audit', 'verify', '--file', file, '--expect-head', `${head.rows}:${head.hash}`], { SQLITE_PATH: join(dir, 'absent.db') });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`audit export intact: ${head.rows} rows\nhead ${head.rows}:${head.hash}\n`);
    expect(result.stdout).toContain('found (0 rows after it)');
  });

  it('detects a changed detail, a changed summary column, a removed line and removed newest lines', async () => {
    const file = join(dir, 'export.jsonl');
    const lines = (await exportNdjson(store, file)).trimEnd().split('\n');
    const head = headOf(store);

    type Record5 = { code: string; detail: { code: string } };
    const edit = (change: (record: Record5) => void) => {
      const record = JSON.parse(lines[4]!) as Record5;
      change(record);
      writeFileSync(file, `${lines.map((l, i) => (i === 4 ? JSON.stringify(record) : l)).join('\n')}\n`);
    };
    // The hashed detail, and the summary column a reader would look at instead.
    for (const change of [(r: Record5) => (r.detail.code = 'patient_mismatch'), (r: Record5) => (r.code = 'patient_mismatch')]) {
      edit(change);
      const changed = await verifyFile(file);
      expect(changed.code).toBe(1);
      expect(changed.stdout).toBe('audit export BROKEN at seq 5 (4 rows intact before it)\n');
    }

    writeFileSync(file, `${lines.filter((_, i) => i !== 6).join('\n')}\n`);
    const removed = await verifyFile(file);
    expect(removed.code).toBe(1);
    expect(removed.stdout).toContain('BROKEN at seq 8');

    writeFileSync(file, `${lines.slice(0, -2).join('\n')}\n`);
    expect((await verifyFile(file)).code).toBe(0);
    const cut = await verifyFile(file, `${head.rows}:${head.hash}`);
    expect(cut.code).toBe(1);
    expect(cut.stdout).toContain(`MISSING: the chain ends at row ${head.rows - 2}`);
  });

  it('checks an export since a later day from its first link, counting rows from its first seq', async () => {
    const file = join(dir, 'day2.jsonl');
    await exportNdjson(store, file, JAN_1 + DAY);
    const head = headOf(store);
    const result = await verifyFile(file, `${head.rows}:${head.hash}`);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`audit export intact: 8 rows (rows 9 to ${head.rows} of the chain`);

    const early = await verifyFile(file, `2:${head.hash}`);
    expect(early.code).toBe(1);
    expect(early.stdout).toContain('cannot be checked: this export starts at row 9');
  });

  it('refuses a CSV export or a line without its chain links, naming the line and never quoting it', async () => {
    const csv = join(dir, 'export.csv');
    let text = '';
    await writeAuditExport(store, JAN_1, 'csv', (chunk) => (text += chunk));
    writeFileSync(csv, text);
    await expect(verifyAuditFile(csv)).rejects.toThrow('line 1 is not an audit record with its chain links');

    const file = join(dir, 'export.jsonl');
    const lines = (await exportNdjson(store, file)).trimEnd().split('\n');
    const stripped = JSON.parse(lines[2]!) as Record<string, unknown>;
    delete stripped.detail;
    writeFileSync(file, [...lines.slice(0, 2), JSON.stringify(stripped), lines[3]].join('\n'));
    const refusal = await verifyAuditFile(file).then(() => '', (error: Error) => error.message);
    expect(refusal).toMatch(/^line 3 is not an audit record/);
    expect(refusal).not.toContain('ticket #4411');
  });
});

describe('the audit chain head as metrics', () => {
  let dir: string;
  let store: SqliteStore;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'afs-audit-metric-'));
    store = openSqliteStore({ sqlitePath: join(dir, 'state.db') });
  });
  afterEach(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const scrape = async (registry: ReturnType<typeof createMetrics>['registry']) => {
    const m = parsePrometheusText(await registry.metrics());
    return { rows: m.value('avara_fhir_sync_audit_chain_rows'), prefix: m.value('avara_fhir_sync_audit_chain_head_hash_prefix') };
  };

  it('exports the row count and the first 48 bits of the last hash, and follows rows deleted from the end', async () => {
    const { registry } = createMetrics(store);
    expect(await scrape(registry)).toEqual({ rows: 0, prefix: 0 });

    seedAuditRows(store, 3);
    const head = headOf(store);
    const first = await scrape(registry);
    expect(first.rows).toBe(head.rows);
    expect(first.prefix.toString(16).padStart(12, '0')).toBe(head.hash.slice(0, 12));

    // Deleted, then as many appended again before the next scrape: the count must not hide it.
    deleteNewestRows(store.connection.path, 4);
    appendAuditEvent(store.connection.db, { reportId: 'rep_after', event: 'received', at: JAN_1 + 5 * DAY, detail: {} });
    const after = await scrape(registry);
    expect(after.rows).toBe(head.rows - 3);
    expect(after.prefix.toString(16).padStart(12, '0')).toBe(headOf(store).hash.slice(0, 12));
  });

  it('gives a head that audit verify --expect-head accepts', async () => {
    seedAuditRows(store, 2);
    const { registry } = createMetrics(store);
    const { rows, prefix } = await scrape(registry);
    appendAuditEvent(store.connection.db, { reportId: 'rep_later', event: 'received', at: JAN_1 + 5 * DAY, detail: {} });
    const result = verifyDatabase(store, `${rows}:${prefix.toString(16).padStart(12, '0')}`);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('found (1 rows after it)');
  });
});
