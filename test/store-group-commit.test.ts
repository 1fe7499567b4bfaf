import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createGroupCommit } from '../src/store/group-commit.ts';
import { countInbox, recordWebhook, type InboxEvent } from '../src/store/inbox.ts';
import { openSqlite, type SqliteConnection } from '../src/store/open-store.ts';

describe('group commit of writes that arrive together', () => {
  let dir: string;
  let store: SqliteConnection;
  let other: Database.Database;
  let flushes: (() => void)[];
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'afs-group-'));
    store = openSqlite({ sqlitePath: join(dir, 'state.db') });
    other = new Database(join(dir, 'state.db'));
    flushes = [];
  });
  afterEach(() => {
    other.close();
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const held = () => createGroupCommit(store.db, (flush) => void flushes.push(flush));
  const event = (n: number): InboxEvent => ({
    webhookId: `msg_${n}`, eventId: `evt_${n}`, type: 'report.delivered', bodySha256: 'x',
    report: { reportId: `rep_${n}`, studyId: `stu_${n}`, isCritical: false, presignedUrl: 'https://files.example/x.pdf' },
  });
  const rowsSeenByAnotherConnection = () => (other.prepare('SELECT count(*) AS n FROM inbox').get() as { n: number }).n;

  it('commits the writes of one turn of the event loop in one transaction and settles them only then', async () => {
    const group = held();
    const settled: string[] = [];
    const writes = [1, 2, 3].map((n) => group.run(() => recordWebhook(store.db, event(n), 1000)).then((outcome) => settled.push(outcome)));
    expect(flushes).toHaveLength(1);
    await new Promise((resolve) => setImmediate(resolve));
    expect(settled).toEqual([]);
    expect(rowsSeenByAnotherConnection()).toBe(0);
    flushes[0]!();
    await Promise.all(writes);
    expect(settled).toEqual(['stored', 'stored', 'stored']);
    expect(rowsSeenByAnotherConnection()).toBe(3);
  });

  it('sees a redelivery inside the same group as a duplicate', async () => {
    const group = held();
    const both = [group.run(() => recordWebhook(store.db, event(1), 1000)), group.run(() => recordWebhook(store.db, event(1), 1000))];
    flushes[0]!();
    expect(await Promise.all(both)).toEqual(['stored', 'duplicate']);
    expect(countInbox(store.db)).toBe(1);
  });

  it('rolls back only the write that throws; the rest of the group is committed', async () => {
    const group = held();
    const first = group.run(() => recordWebhook(store.db, event(1), 1000));
    const failing = group.run(() => {
      recordWebhook(store.db, event(2), 1000);
      throw new Error('refused halfway');
    });
    const third = group.run(() => recordWebhook(store.db, event(3), 1000));
    flushes[0]!();
    await expect(failing).rejects.toThrow('refused halfway');
    expect(await first).toBe('stored');
    expect(await third).toBe('stored');
    expect(other.prepare('SELECT webhook_id AS id FROM inbox ORDER BY id').all()).toEqual([{ id: 'msg_1' }, { id: 'msg_3' }]);
  });

  it('rejects every write of the group and keeps none when the transaction cannot be had', async () => {
    store.sqlite.pragma('busy_timeout = 50');
    other.exec('BEGIN IMMEDIATE');
    const group = held();
    const writes = [1, 2].map((n) => group.run(() => recordWebhook(store.db, event(n), 1000)));
    flushes[0]!();
    for (const write of writes) await expect(write).rejects.toMatchObject({ code: 'SQLITE_BUSY' });
    other.exec('ROLLBACK');
    expect(countInbox(store.db)).toBe(0);
  });

  it('starts a new group for writes that come after a flush', async () => {
    const group = createGroupCommit(store.db);
    expect(await group.run(() => recordWebhook(store.db, event(1), 1000))).toBe('stored');
    expect(await group.run(() => recordWebhook(store.db, event(2), 1000))).toBe('stored');
    expect(rowsSeenByAnotherConnection()).toBe(2);
  });
});
