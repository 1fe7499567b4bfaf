import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { appendAuditEvent, listAuditEvents, verifyAuditChain } from '../src/store/audit.ts';
import { LEASE_EXPIRIES_PER_ATTEMPT, claimNextDelivery, enqueueDelivery, getDelivery, markDelivered, markFailed, releaseDelivery, requeueDelivery, requeueExpiredLeases } from '../src/store/deliveries.ts';
import { tryAcquireLocks, releaseLocks } from '../src/store/locks.ts';
import { openSqlite, type SqliteConnection } from '../src/store/open-store.ts';

const LEASE_MS = 60_000;

describe('delivery state in SQLite', () => {
  let dir: string;
  let store: SqliteConnection;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'afs-store-'));
    store = openSqlite({ sqlitePath: join(dir, 'state.db') });
  });
  afterEach(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const enqueue = (reportId: string, now = 1000) => enqueueDelivery(store.db, { reportId, studyId: 'stu_1', source: 'webhook' }, now);

  it('enqueues one delivery per report whatever found it', () => {
    expect(enqueue('rep_a')).toBe(true);
    expect(enqueueDelivery(store.db, { reportId: 'rep_a', studyId: 'stu_1', source: 'poll' }, 2000)).toBe(false);
    expect(getDelivery(store.db, 'rep_a')?.source).toBe('webhook');
  });

  it('does not let a worker whose lease expired mark the delivery after another took it over', () => {
    enqueue('rep_a');
    const late = claimNextDelivery(store.db, 1000, LEASE_MS)!;
    expect(requeueExpiredLeases(store.db, 1000 + LEASE_MS + 1, 12)).toBe(1);
    const owner = claimNextDelivery(store.db, 1000 + LEASE_MS + 2, LEASE_MS)!;
    expect(owner.attempt).toBe(1); // the expired attempt's outcome is unknown: not counted
    expect(markDelivered(store.db, late, { refs: {}, contentHash: 'x' }, 70_000)).toBe(false);
    expect(getDelivery(store.db, 'rep_a')?.state).toBe('in_progress');
    expect(markDelivered(store.db, owner, { refs: { DiagnosticReport: 'DiagnosticReport/1/_history/1' }, contentHash: 'x' }, 70_000)).toBe(true);
    expect(getDelivery(store.db, 'rep_a')).toMatchObject({ state: 'delivered', leaseToken: null });
  });

  it('dead-letters a delivery whose lease expired twice MAX_ATTEMPTS times instead of crash-looping', () => {
    enqueue('rep_a');
    let at = 1000;
    for (let i = 0; i < 3 * LEASE_EXPIRIES_PER_ATTEMPT; i++) {
      expect(getDelivery(store.db, 'rep_a')?.state).toBe('queued');
      expect(claimNextDelivery(store.db, at, LEASE_MS)).toBeDefined();
      at += LEASE_MS + 1;
      requeueExpiredLeases(store.db, at, 3);
    }
    expect(getDelivery(store.db, 'rep_a')).toMatchObject({ state: 'dead', lastErrorCode: 'lease_expired_repeatedly' });
    expect(listAuditEvents(store.db, 'rep_a').filter((e) => e.event === 'lease_expired')).toHaveLength(3 * LEASE_EXPIRIES_PER_ATTEMPT);
  });

  it('claims nothing before the next attempt is due, and gives back an attempt on release', () => {
    enqueue('rep_a');
    const lease = claimNextDelivery(store.db, 1000, LEASE_MS)!;
    markFailed(store.db, lease, { code: 'fhir_unavailable', message: 'down' }, 5000, 1000);
    expect(claimNextDelivery(store.db, 4999, LEASE_MS)).toBeUndefined();
    const again = claimNextDelivery(store.db, 5000, LEASE_MS)!;
    expect(again.attempt).toBe(2);
    releaseDelivery(store.db, again, 6000, 'rate_limited', 5000);
    expect(getDelivery(store.db, 'rep_a')).toMatchObject({ state: 'queued', attempts: 1 });
  });

  it('requeues only failed, dead or skipped deliveries for a person, with fresh attempts', () => {
    enqueue('rep_a');
    expect(requeueDelivery(store.db, 'rep_a', 2000, { by: 'test', operator: 'test' })).toBe('not_retryable');
    expect(requeueDelivery(store.db, 'rep_missing', 2000, { by: 'test', operator: 'test' })).toBe('not_found');
  });

  it('writes an audit row for every transition, chained by hash', () => {
    enqueue('rep_a');
    const lease = claimNextDelivery(store.db, 1000, LEASE_MS)!;
    markDelivered(store.db, lease, { refs: {}, contentHash: 'x' }, 2000);
    expect(listAuditEvents(store.db, 'rep_a').map((e) => e.event)).toEqual(['enqueued', 'attempt_started', 'delivered']);
    expect(verifyAuditChain(store.db)).toMatchObject({ ok: true, rows: 3 });
  });

  it('refuses to update or delete audit rows', () => {
    appendAuditEvent(store.db, { reportId: 'rep_a', event: 'enqueued', at: 1 });
    expect(() => store.sqlite.prepare("UPDATE audit_events SET event = 'delivered'").run()).toThrow(/append-only/);
    expect(() => store.sqlite.prepare('DELETE FROM audit_events').run()).toThrow(/append-only/);
  });

  it('detects an audit row changed behind the triggers', () => {
    for (const at of [1, 2, 3]) appendAuditEvent(store.db, { reportId: 'rep_a', event: 'enqueued', at });
    store.sqlite.exec('DROP TRIGGER audit_events_no_update');
    store.sqlite.prepare('UPDATE audit_events SET at = 99 WHERE seq = 2').run();
    expect(verifyAuditChain(store.db)).toMatchObject({ ok: false, rows: 1, brokenAtSeq: 2 });
  });

  it('grants study and patient locks to one holder at a time, and frees them when the holder expires', () => {
    expect(tryAcquireLocks(store.db, ['study:1', 'patient:p'], 'w1', 10_000, 1000)).toBe(true);
    expect(tryAcquireLocks(store.db, ['study:2', 'patient:p'], 'w2', 10_000, 1000)).toBe(false);
    expect(tryAcquireLocks(store.db, ['study:2'], 'w2', 10_000, 1000)).toBe(true);
    expect(tryAcquireLocks(store.db, ['patient:p'], 'w3', 20_000, 10_001)).toBe(true);
    releaseLocks(store.db, 'w3');
    expect(tryAcquireLocks(store.db, ['patient:p'], 'w1', 30_000, 10_002)).toBe(true);
  });
});
