import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SyncError } from '../src/errors.ts';
import { sqliteJobQueue } from '../src/store/sqlite-job-queue.ts';
import { LEASE_EXPIRIES_PER_ATTEMPT } from '../src/store/leased-jobs.ts';
import { startJobLoop, type AttemptEnd, type JobAttempts, type JobLoopSettings } from '../src/queue/run-job-loop.ts';
import { appendAuditEvent, verifyAuditChain } from '../src/store/audit.ts';
import { deliveryQueueOf, enqueueDelivery, getDelivery, type Lease } from '../src/store/deliveries.ts';
import { openStore, type Store } from '../src/store/open-store.ts';
import { claimNextOrder, getOrder, noteOrderChange, requeueExpiredOrderLeases } from '../src/store/orders.ts';
import { createOlderDatabase } from './support/older-database.ts';
import { sleep, waitFor } from './support/wait-for.ts';

const LEASE_MS = 60_000;
const SETTINGS: JobLoopSettings = { concurrency: 2, leaseMs: LEASE_MS, maxAttempts: 3, retryBaseMs: 10, retryMaxMs: 20, shutdownGraceMs: 100 };
const silent = pino({ level: 'silent' });

describe('the leased-job queue', () => {
  let dir: string;
  let store: Store;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'afs-queue-'));
    store = openStore({ sqlitePath: join(dir, 'state.db') });
  });
  afterEach(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const enqueue = (reportId: string) => enqueueDelivery(store.db, { reportId, studyId: 'stu_1', source: 'webhook' }, Date.now());

  /** A delivery job kind whose attempt the test decides. */
  function jobs(attempt: (lease: Lease) => Promise<AttemptEnd>): JobAttempts<Lease> {
    return { queue: sqliteJobQueue(store.db, deliveryQueueOf('fhir')), noun: 'test job', logFields: (lease) => ({ reportId: lease.reportId }), attempt: (context) => attempt(context.lease) };
  }

  it('caps repeated lease expiry for orders too: dead as lease_expired_repeatedly, audited as an order', () => {
    noteOrderChange(store.db, { imagingStudyId: 'is-1', resource: 'ImagingStudy/is-1', version: '1', source: 'sweep' }, 1000);
    let at = 1000;
    for (let i = 0; i < 2 * LEASE_EXPIRIES_PER_ATTEMPT; i++) {
      expect(getOrder(store.db, 'is-1')?.state).toBe('queued');
      expect(claimNextOrder(store.db, at, LEASE_MS)).toBeDefined();
      at += LEASE_MS + 1;
      requeueExpiredOrderLeases(store.db, at, 2);
    }
    expect(getOrder(store.db, 'is-1')).toMatchObject({ state: 'dead', lastErrorCode: 'lease_expired_repeatedly', leaseExpiries: 2 * LEASE_EXPIRIES_PER_ATTEMPT });
    const events = store.sqlite.prepare(`select event, detail from audit_events where report_id is null and event like 'order_%' order by seq`).all() as { event: string; detail: string }[];
    expect(events.filter((e) => e.event === 'order_lease_expired')).toHaveLength(2 * LEASE_EXPIRIES_PER_ATTEMPT);
    expect(events.at(-1)).toMatchObject({ event: 'order_dead' });
    expect(JSON.parse(events.at(-1)!.detail)).toMatchObject({ order: 'is-1', code: 'lease_expired_repeatedly' });
  });

  it('turns failures into verbs: retryable -> failed, permanent -> dead, Retry-After -> released without spending the attempt', async () => {
    for (const id of ['rep_retry', 'rep_perm', 'rep_wait']) enqueue(id);
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
    const settled = (id: string) => seen.includes(id) && getDelivery(store.db, id)!.state !== 'in_progress';
    await waitFor('three attempts recorded', () => ['rep_retry', 'rep_perm', 'rep_wait'].every(settled));
    await loop.stop();
    expect(getDelivery(store.db, 'rep_retry')).toMatchObject({ state: 'failed', attempts: 1, lastErrorCode: 'fhir_unavailable' });
    expect(getDelivery(store.db, 'rep_perm')).toMatchObject({ state: 'dead', attempts: 1, lastErrorCode: 'patient_mismatch' });
    expect(getDelivery(store.db, 'rep_wait')).toMatchObject({ state: 'queued', attempts: 0 });
    expect(getDelivery(store.db, 'rep_wait')!.nextAttemptAt).toBeGreaterThan(Date.now() + 3_000_000);
    expect(verifyAuditChain(store.db).ok).toBe(true);
  });

  it('pauses the loop when upstream refuses our credentials: no attempt spent, nothing else claimed', async () => {
    enqueue('rep_a');
    enqueue('rep_b');
    const seen: string[] = [];
    const loop = startJobLoop(jobs(async (lease) => {
      seen.push(lease.reportId);
      throw SyncError.permanent('fhir_unauthorized', 'refused');
    }), { log: silent, settings: { ...SETTINGS, concurrency: 1 }, now: Date.now });
    await waitFor('the first attempt released', () => getDelivery(store.db, seen[0] ?? 'none')?.state === 'queued' && seen.length === 1);
    loop.wake();
    await sleep(300);
    await loop.stop();
    expect(seen).toHaveLength(1);
    expect(getDelivery(store.db, seen[0]!)).toMatchObject({ state: 'queued', attempts: 0 });
  });

  it('on stop gives attempts that outlive the grace back to the queue, fenced against their late end', async () => {
    enqueue('rep_slow');
    let finish: (() => void) | undefined;
    let recorded = false;
    const loop = startJobLoop(jobs(async () => {
      await new Promise<void>((resolve) => (finish = resolve));
      return { kind: 'done', outcome: 'delivered', record: () => void (recorded = true) };
    }), { log: silent, settings: SETTINGS, now: Date.now });
    await waitFor('the attempt started', () => finish !== undefined);
    await loop.stop();
    expect(getDelivery(store.db, 'rep_slow')).toMatchObject({ state: 'queued', attempts: 0, leaseToken: null });
    const released = store.sqlite.prepare(`select detail from audit_events where report_id = 'rep_slow' and event = 'released'`).get() as { detail: string };
    expect(JSON.parse(released.detail)).toMatchObject({ reason: 'shutdown' });
    finish!();
    await sleep(50);
    expect(recorded).toBe(true); // the kind's own verb runs, and its fenced write changes nothing
    expect(getDelivery(store.db, 'rep_slow')?.state).toBe('queued');
  });

  it('a busy attempt is released without spending its attempt and comes back', async () => {
    enqueue('rep_a');
    let calls = 0;
    const loop = startJobLoop(jobs(async () => {
      calls += 1;
      if (calls === 1) return { kind: 'busy', reason: 'study_or_patient_locked', retryInMs: 20 };
      return { kind: 'done', outcome: 'skipped', record: () => void 0 };
    }), { log: silent, settings: SETTINGS, now: Date.now });
    await waitFor('the second attempt', () => calls >= 2);
    await loop.stop();
    expect(calls).toBe(2);
  });

  it('the migration carries expiry counts over from the audit trail', () => {
    store.close();
    const path = join(dir, 'older.db');
    createOlderDatabase(path, '0005_drop_unused_deliveries_updated_index', (sqlite) => {
      sqlite.prepare(`insert into deliveries (report_id, study_id, state, next_attempt_at, source, created_at, updated_at) values ('rep_a', 'stu_1', 'queued', 1, 'webhook', 1, 1)`).run();
    });
    store = openStore({ sqlitePath: path, migrate: false });
    // Audit rows as the old release wrote them, hash-chained (the table refuses edits afterwards).
    for (let i = 0; i < 3; i++) appendAuditEvent(store.db, { reportId: 'rep_a', event: 'lease_expired', at: 2000 + i, detail: {} });
    store.close();
    store = openStore({ sqlitePath: path });
    expect(getDelivery(store.db, 'rep_a')).toMatchObject({ leaseExpiries: 3, target: 'fhir', id: 'fhir:rep_a', state: 'queued' });
  });
});
