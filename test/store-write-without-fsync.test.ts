import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { claimNextDelivery, enqueueDelivery, getDelivery } from '../src/store/deliveries.ts';
import { openSqlite, type SqliteConnection } from '../src/store/open-store.ts';
import { writeTogether, writeWithoutFsync } from '../src/store/write-together.ts';

const NORMAL = 1;
const FULL = 2;

describe('writes committed without waiting for fsync (claims and locks)', () => {
  let dir: string;
  let store: SqliteConnection;
  let other: Database.Database;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'afs-nofsync-'));
    store = openSqlite({ sqlitePath: join(dir, 'state.db') });
    other = new Database(join(dir, 'state.db'));
    enqueueDelivery(store.db, { reportId: 'rep_1', studyId: 'stu_1', source: 'webhook' }, 1000);
  });
  afterEach(() => {
    other.close();
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const synchronous = () => store.sqlite.pragma('synchronous', { simple: true });
  const stateSeenElsewhere = () => (other.prepare("SELECT state FROM deliveries WHERE report_id = 'rep_1'").get() as { state: string }).state;

  it('commits at once, visible to another connection, and leaves the connection durable (synchronous=FULL) for the next commit', () => {
    const lease = writeWithoutFsync(store.db, () => {
      expect(synchronous()).toBe(NORMAL);
      return claimNextDelivery(store.db, 2000, 60_000);
    });
    expect(lease?.reportId).toBe('rep_1');
    expect(stateSeenElsewhere()).toBe('in_progress');
    expect(synchronous()).toBe(FULL);
  });

  it('rolls back writes that throw and still restores synchronous=FULL', () => {
    expect(() => writeWithoutFsync(store.db, () => {
      claimNextDelivery(store.db, 2000, 60_000);
      throw new Error('boom');
    })).toThrow('boom');
    expect(getDelivery(store.db, 'rep_1')?.state).toBe('queued');
    expect(synchronous()).toBe(FULL);
  });

  it('inside a durable transaction joins it instead of weakening its commit', () => {
    expect(() => writeTogether(store.db, () => {
      writeWithoutFsync(store.db, () => {
        expect(synchronous()).toBe(FULL);
        return claimNextDelivery(store.db, 2000, 60_000);
      });
      throw new Error('outer fails');
    })).toThrow('outer fails');
    expect(getDelivery(store.db, 'rep_1')?.state).toBe('queued');
    expect(synchronous()).toBe(FULL);
  });
});
