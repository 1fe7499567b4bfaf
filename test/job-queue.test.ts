import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SyncError } from '../src/errors.ts';
import { LEASE_EXPIRIES_PER_ATTEMPT } from '../src/store/leased-jobs.ts';
import { startJobLoop, type AttemptEnd, type JobAttempts, type JobLoopSettings } from '../src/queue/run-job-loop.ts';
import { appendAuditEvent } from '../src/store/audit.ts';
import { getDelivery } from '../src/store/deliveries.ts';
import { openSqlite } from '../src/store/open-store.ts';
import { openStoreFromConfig } from '../src/store/open-store-from-config.ts';
import type { DeliveryEnding, Lease, Store } from '../src/store/store.ts';
import { createOlderDatabase } from './support/older-database.ts';
import { sleep, waitFor } from './support/wait-for.ts';

const LEASE_MS = 60_000;
const SETTINGS: JobLoopSettings = { concurrency: 2, leaseMs: LEASE_MS, maxAttempts: 3, retryBaseMs: 10, retryMaxMs: 20, shutdownGraceMs: 100 };
const silent = pino({ level: 'silent' });

describe('the leased-job queue', () => {
  let dir: string;
  let store: Store;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'afs-queue-'));
    store = await openStoreFromConfig({ sqlitePath: join(dir, 'state.db') });
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const enqueue = (reportId: string) => store.deliveries.enqueue({ reportId, studyId: 'stu_1', source: 'webhook' }, Date.now());
  const delivery = (reportId: string) => store.deliveries.get(reportId);

  /** A delivery job kind whose attempt the test decides. */
  function jobs(attempt: (lease: Lease) => Promise<AttemptEnd<DeliveryEnding>>): JobAttempts<Lease, string, DeliveryEnding> {
    return { queue: store.deliveryQueue('fhir'), noun: 'test job', logFields: (lease) => ({ reportId: lease.reportId }), attempt: (context) => attempt(context.lease) };
  }

  it('caps repeated lease expiry for orders too: dead as lease_expired_repeatedly, audited as an order', async () => {
    await store.orders.noteChange({ imagingStudyId: 'is-1', resource: 'ImagingStudy/is-1', version: '1', source: 'sweep' }, 1000);
    const queue = store.orderQueue();
    let at = 1000;
    for (let i = 0; i < 2 * LEASE_EXPIRIES_PER_ATTEMPT; i++) {
      expect((await store.orders.get('is-1'))?.state).toBe('queued');
      expect(await queue.claim(at, LEASE_MS)).toBeDefined();
      at += LEASE_MS + 1;
      await queue.requeueExpired(at, 2);
    }
    expect(await store.orders.get('is-1')).toMatchObject({ state: 'dead', lastErrorCode: 'lease_expired_repeatedly', leaseExpiries: 2 * LEASE_EXPIRIES_PER_ATTEMPT });
    const events = await store.audit.ofOrder('is-1');
    expect(events.filter((e) => e.event === 'order_lease_expired')).toHaveLength(2 * LEASE_EXPIRIES_PER_ATTEMPT);
    expect(events.at(-1)).toMatchObject({ event: 'order_dead', detail: { order: 'is-1', code: 'lease_expired_repeatedly' } });
  });

  it('turns failures into verbs: retryable -> failed, permanent -> dead, Retry-After -> released without spending the attempt', async () => {
    for (const id of ['rep_retry', 'rep_perm', 'rep_wait']) await enqueue(id);
    const failures: Record<string, SyncError> = {
      rep_retry: SyncError.retryable('fhir_unavailable', 'down'),
      rep_perm: SyncError.permanent('patient_mismatch', 'birthDate differs'),
      rep_wait: SyncError.retryable('fhir_rate_limited', 'slow down', { retryAfterMs: 3_600_000 }),
    };
    const seen: string[] = [];
    const loop = startJobLoop(jobs(async (lease) => {
      seen.push(lease.reportId);
      throw failures[lease.reportId];
    }), { log: silent, settings: { ...SETTINGS, retryBaseMs: 3_600_000, retryMaxMs: 3_600_000 }, now: Date.now });
    const settled = async (id: string) => seen.includes(id) && (await delivery(id))!.state !== 'in_progress';
    await waitFor('three attempts recorded', async () => (await Promise.all(['rep_retry', 'rep_perm', 'rep_wait'].map(settled))).every(Boolean));
    await loop.stop();
    expect(await delivery('rep_retry')).toMatchObject({ state: 'failed', attempts: 1, lastErrorCode: 'fhir_unavailable' });
    expect(await delivery('rep_perm')).toMatchObject({ state: 'dead', attempts: 1, lastErrorCode: 'patient_mismatch' });
    expect(await delivery('rep_wait')).toMatchObject({ state: 'queued', attempts: 0 });
    expect((await delivery('rep_wait'))!.nextAttemptAt).toBeGreaterThan(Date.now() + 3_000_000);
    expect((await store.audit.verify()).ok).toBe(true);
  });

  it('pauses the loop when upstream refuses our credentials: no attempt spent, nothing else claimed', async () => {
    await enqueue('rep_a');
    await enqueue('rep_b');
    const seen: string[] = [];
    const loop = startJobLoop(jobs(async (lease) => {
      seen.push(lease.reportId);
      throw SyncError.permanent('fhir_unauthorized', 'refused');
    }), { log: silent, settings: { ...SETTINGS, concurrency: 1 }, now: Date.now });
    await waitFor('the first attempt released', async () => (await delivery(seen[0] ?? 'none'))?.state === 'queued' && seen.length === 1);
    loop.wake();
    await sleep(300);
    await loop.stop();
    expect(seen).toHaveLength(1);
    expect(await delivery(seen[0]!)).toMatchObject({ state: 'queued', attempts: 0 });
  });

  it('on stop gives attempts that outlive the grace back to the queue, fenced against their late end', async () => {
    await enqueue('rep_slow');
    let finish: (() => void) | undefined;
    let held: boolean | undefined;
    const loop = startJobLoop(jobs(async () => {
      await new Promise<void>((resolve) => (finish = resolve));
      return { kind: 'done', outcome: 'skipped', ending: { kind: 'skipped', code: 'study_cancelled', message: 'late' }, announce: (h) => void (held = h) };
    }), { log: silent, settings: SETTINGS, now: Date.now });
    await waitFor('the attempt started', () => finish !== undefined);
    await loop.stop();
    expect(await delivery('rep_slow')).toMatchObject({ state: 'queued', attempts: 0, leaseToken: null });
    const released = (await store.audit.ofReport('rep_slow')).find((e) => e.event === 'released');
    expect(released?.detail).toMatchObject({ reason: 'shutdown' });
    finish!();
    await waitFor('the late end recorded', () => held !== undefined);
    expect(held).toBe(false); // the kind's own ending is written fenced: it changes nothing
    expect((await delivery('rep_slow'))?.state).toBe('queued');
  });

  it('a busy attempt is released without spending its attempt and comes back', async () => {
    await enqueue('rep_a');
    let calls = 0;
    const loop = startJobLoop(jobs(async () => {
      calls += 1;
      if (calls === 1) return { kind: 'busy', reason: 'study_or_patient_locked', retryInMs: 20 };
      return { kind: 'done', outcome: 'skipped', ending: { kind: 'skipped', code: 'study_cancelled', message: 'test' } };
    }), { log: silent, settings: SETTINGS, now: Date.now });
    await waitFor('the second attempt', () => calls >= 2);
    await loop.stop();
    expect(calls).toBe(2);
  });

  it('the migration carries expiry counts over from the audit trail', () => {
    const path = join(dir, 'older.db');
    createOlderDatabase(path, '0005_drop_unused_deliveries_updated_index', (sqlite) => {
      sqlite.prepare(`insert into deliveries (report_id, study_id, state, next_attempt_at, source, created_at, updated_at) values ('rep_a', 'stu_1', 'queued', 1, 'webhook', 1, 1)`).run();
    });
    const older = openSqlite({ sqlitePath: path, migrate: false });
    // Audit rows as the old release wrote them, hash-chained (the table refuses edits afterwards).
    for (let i = 0; i < 3; i++) appendAuditEvent(older.db, { reportId: 'rep_a', event: 'lease_expired', at: 2000 + i, detail: {} });
    older.close();
    const migrated = openSqlite({ sqlitePath: path });
    expect(getDelivery(migrated.db, 'rep_a')).toMatchObject({ leaseExpiries: 3, target: 'fhir', id: 'fhir:rep_a', state: 'queued' });
    migrated.close();
  });
});
