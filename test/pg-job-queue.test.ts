import { and, asc, eq, isNull, sql } from 'drizzle-orm';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { SyncError } from '../src/errors.ts';
import { startJobLoop, type AttemptEnd, type JobLoopSettings } from '../src/queue/run-job-loop.ts';
import type { Lease } from '../src/store/deliveries.ts';
import { LEASE_EXPIRIES_PER_ATTEMPT } from '../src/store/leased-jobs.ts';
import type { PgStore } from '../src/store/pg/open-pg-store.ts';
import { verifyAuditChainPg } from '../src/store/pg/pg-audit.ts';
import { enqueueDeliveryPg, finishDeliveryPg, markDeliveredPg, pgDeliveryQueueOf } from '../src/store/pg/pg-deliveries.ts';
import { recordWebhookPg } from '../src/store/pg/pg-intake.ts';
import { pgJobQueue } from '../src/store/pg/pg-job-queue.ts';
import { finishOrderAttemptPg, noteOrderChangePg, PG_ORDER_QUEUE } from '../src/store/pg/pg-orders.ts';
import { inTransaction } from '../src/store/pg/pg-transaction.ts';
import { auditEvents, deliveries, inbox, locks, orders } from '../src/store/pg/schema.ts';
import { twoPgReplicasPerBlock } from './support/pg-two-replicas.ts';
import { waitFor } from './support/wait-for.ts';

// The leased-job queue on PostgreSQL with two "replicas": two stores, each its own pool, on one
// database. Mirrors test/job-queue.test.ts (SQLite) and adds what only several replicas can do.

const LEASE_MS = 60_000;
const SETTINGS: JobLoopSettings = { concurrency: 2, leaseMs: LEASE_MS, maxAttempts: 3, retryBaseMs: 10, retryMaxMs: 20, shutdownGraceMs: 100 };
const silent = pino({ level: 'silent' });

describe('the leased-job queue on PostgreSQL, two replicas', () => {
  let a: PgStore;
  let b: PgStore;
  twoPgReplicasPerBlock((replicas) => ({ a, b } = replicas));

  const fhir = (store: PgStore) => pgJobQueue(store, pgDeliveryQueueOf('fhir'));
  const enqueue = (reportId: string, now: number, target = 'fhir', studyId = 'stu_1') =>
    inTransaction(a.pool, (tx) => enqueueDeliveryPg(tx, { reportId, studyId, source: 'webhook', targets: [target] }, now));
  const delivery = async (reportId: string, target = 'fhir') => (await a.db.select().from(deliveries).where(eq(deliveries.id, `${target}:${reportId}`)))[0];
  const eventsOf = async (reportId: string) => (await a.db.select({ event: auditEvents.event }).from(auditEvents).where(eq(auditEvents.reportId, reportId)).orderBy(asc(auditEvents.seq))).map((r) => r.event);

  it('200 jobs, 4 claimers on two pools at once: every job handed out exactly once', async () => {
    await inTransaction(a.pool, async (tx) => {
      for (let i = 0; i < 200; i++) await enqueueDeliveryPg(tx, { reportId: `rep_${i}`, studyId: `stu_${i}`, source: 'webhook' }, 1000);
    });
    const claimers = [a, a, b, b].map(async (store) => {
      const queue = fhir(store);
      const got: Lease[] = [];
      for (let lease = await queue.claim(2000, LEASE_MS); lease; lease = await queue.claim(2000, LEASE_MS)) got.push(lease);
      return got;
    });
    const byClaimer = await Promise.all(claimers);
    const all = byClaimer.flat();
    expect(all).toHaveLength(200);
    expect(new Set(all.map((lease) => lease.reportId)).size).toBe(200);
    // Both replicas took part: the claims really ran side by side.
    expect(byClaimer[0]!.length + byClaimer[1]!.length).toBeGreaterThan(0);
    expect(byClaimer[2]!.length + byClaimer[3]!.length).toBeGreaterThan(0);
    const rows = await a.db.select({ state: deliveries.state, attempts: deliveries.attempts, token: deliveries.leaseToken, id: deliveries.id }).from(deliveries);
    expect(rows.every((row) => row.state === 'in_progress' && row.attempts === 1)).toBe(true);
    const tokenOf = new Map(all.map((lease) => [lease.key, lease.token]));
    expect(rows.every((row) => row.token === tokenOf.get(row.id))).toBe(true);
    expect(await verifyAuditChainPg(a.db)).toMatchObject({ ok: true, rows: 400 });
  }, 60_000);

  it('after its lease is lost and taken over, the late attempt changes nothing: every verb is fenced on the token in SQL', async () => {
    await enqueue('rep_f', 1000);
    const qa = fhir(a);
    const qb = fhir(b);
    const lost = (await qa.claim(1000, LEASE_MS))!;
    expect(await qa.acquireLocks(lost, ['study:stu_1'], 1000)).toBe(true);
    const later = 1000 + LEASE_MS + 1;
    expect(await qb.requeueExpired(later, 3)).toBe(1);
    const owner = (await qb.claim(later, LEASE_MS))!;
    expect(owner).toMatchObject({ reportId: 'rep_f', attempt: 1 });
    expect(owner.token).not.toBe(lost.token);

    expect(await qa.holds(lost, later)).toBe(false);
    expect(await qa.renew(lost, later, LEASE_MS)).toBe(false);
    expect(await qa.recordStep(lost, { patientLabel: 'late' }, 'hl7_sent', {}, later)).toBe(false);
    expect(await qa.fail(lost, { code: 'fhir_unavailable', message: 'late' }, later + 10, later)).toBe(false);
    expect(await qa.dead(lost, { code: 'patient_mismatch', message: 'late' }, later)).toBe(false);
    expect(await qa.release(lost, later, 'shutdown', later)).toBe(false);
    expect(await markDeliveredPg(a.pool, lost, { refs: { DiagnosticReport: 'DiagnosticReport/late' }, contentHash: 'late' }, later)).toBe(false);
    // Its study lock lapsed with its lease: the new owner takes it, and the late release leaves it be.
    expect(await qb.acquireLocks(owner, ['study:stu_1'], later)).toBe(true);
    await qa.releaseLocks(lost);
    expect(await a.db.select().from(locks)).toEqual([{ key: 'study:stu_1', holder: owner.token, expiresAt: owner.expiresAt }]);
    expect(await delivery('rep_f')).toMatchObject({ state: 'in_progress', leaseToken: owner.token, patientLabel: null, lastErrorCode: null, fhirRefs: null });

    expect(await qb.holds(owner, later)).toBe(true);
    expect(await markDeliveredPg(b.pool, owner, { refs: { DiagnosticReport: 'DiagnosticReport/1/_history/1' }, contentHash: 'h1' }, later + 5)).toBe(true);
    expect(await delivery('rep_f')).toMatchObject({ state: 'delivered', leaseToken: null, fhirRefs: { DiagnosticReport: 'DiagnosticReport/1/_history/1' }, deliveredAt: later + 5 });
    expect(await eventsOf('rep_f')).toEqual(['enqueued', 'attempt_started', 'lease_expired', 'attempt_started', 'delivered']);
    expect((await verifyAuditChainPg(a.db)).ok).toBe(true);
  });

  it('a renewed lease and its locks outlive the first expiry; an expired one is taken over by the other replica', async () => {
    await enqueue('rep_r', 1000);
    const qa = fhir(a);
    const qb = fhir(b);
    const lease = (await qa.claim(1000, LEASE_MS))!;
    expect(await qa.acquireLocks(lease, ['patient:p1'], 1000)).toBe(true);
    expect(await qa.renew(lease, 30_000, LEASE_MS)).toBe(true);
    expect(lease.expiresAt).toBe(30_000 + LEASE_MS);
    const afterFirstExpiry = 1000 + LEASE_MS + 1;
    expect(await qb.requeueExpired(afterFirstExpiry, 3)).toBe(0);
    expect(await qb.claim(afterFirstExpiry, LEASE_MS)).toBeUndefined();
    expect(await qa.holds(lease, afterFirstExpiry)).toBe(true);
    // The lock was renewed with the lease: still held against another holder.
    await enqueue('rep_other', 1000, 'fhir', 'stu_2');
    const other = (await qb.claim(afterFirstExpiry, LEASE_MS))!;
    expect(await qb.acquireLocks(other, ['patient:p1'], afterFirstExpiry)).toBe(false);
    const afterRenewed = lease.expiresAt + 1;
    expect(await qb.acquireLocks(other, ['patient:p1'], afterRenewed)).toBe(true);
    expect(await qb.requeueExpired(afterRenewed, 3)).toBe(1);
    expect(await qb.claim(afterRenewed, LEASE_MS)).toMatchObject({ reportId: 'rep_r', attempt: 1 });
  });

  it('caps repeated lease expiry for orders too: dead as lease_expired_repeatedly, audited as an order', async () => {
    await noteOrderChangePg(a.pool, { imagingStudyId: 'is-1', resource: 'ImagingStudy/is-1', version: '1', source: 'sweep' }, 1000);
    const qa = pgJobQueue(a, PG_ORDER_QUEUE);
    const qb = pgJobQueue(b, PG_ORDER_QUEUE);
    let at = 1000;
    for (let i = 0; i < 2 * LEASE_EXPIRIES_PER_ATTEMPT; i++) {
      expect((await a.db.select().from(orders))[0]?.state).toBe('queued');
      expect(await (i % 2 ? qa : qb).claim(at, LEASE_MS)).toBeDefined();
      at += LEASE_MS + 1;
      await (i % 2 ? qb : qa).requeueExpired(at, 2);
    }
    expect((await a.db.select().from(orders))[0]).toMatchObject({ state: 'dead', lastErrorCode: 'lease_expired_repeatedly', leaseExpiries: 2 * LEASE_EXPIRIES_PER_ATTEMPT });
    const events = await a.db.select({ event: auditEvents.event, detail: auditEvents.detail }).from(auditEvents).where(isNull(auditEvents.reportId)).orderBy(asc(auditEvents.seq));
    expect(events.filter((e) => e.event === 'order_lease_expired')).toHaveLength(2 * LEASE_EXPIRIES_PER_ATTEMPT);
    expect(events.at(-1)).toEqual({ event: 'order_dead', detail: { order: 'is-1', code: 'lease_expired_repeatedly' } });
  });

  it('an order changed while its attempt ran ends queued, not synced; its lease carries the change count', async () => {
    const queue = pgJobQueue(a, PG_ORDER_QUEUE);
    await noteOrderChangePg(a.pool, { imagingStudyId: 'is-2', resource: 'ImagingStudy/is-2', version: '1', source: 'sweep' }, 1000);
    expect(await noteOrderChangePg(b.pool, { imagingStudyId: 'is-2', resource: 'ImagingStudy/is-2', version: '1', source: 'sweep' }, 1000)).toBe(false);
    const lease = (await queue.claim(1000, LEASE_MS))!;
    expect(lease).toMatchObject({ imagingStudyId: 'is-2', changeSeq: 0 });
    expect(await noteOrderChangePg(b.pool, { imagingStudyId: 'is-2', resource: 'Patient/p', version: '7', source: 'sweep' }, 2000)).toBe(true);
    expect(await finishOrderAttemptPg(a.pool, lease, { kind: 'synced', detail: {} }, 3000)).toBe(true);
    expect((await a.db.select().from(orders))[0]).toMatchObject({ state: 'queued', changeSeq: 1, syncedAt: 3000 });
    const again = (await queue.claim(3000, LEASE_MS))!;
    expect(await finishOrderAttemptPg(a.pool, again, { kind: 'synced', detail: {} }, 4000)).toBe(true);
    expect((await a.db.select().from(orders))[0]).toMatchObject({ state: 'synced', sourceVersions: { 'ImagingStudy/is-2': '1', 'Patient/p': '7' } });
  });

  it('locks are all-or-none across replicas, and two replicas racing for overlapping keys: exactly one wins', async () => {
    await enqueue('rep_1', 1000, 'fhir', 'stu_1');
    await enqueue('rep_2', 1000, 'fhir', 'stu_2');
    const qa = fhir(a);
    const qb = fhir(b);
    const la = (await qa.claim(1000, LEASE_MS))!;
    const lb = (await qb.claim(1000, LEASE_MS))!;
    expect(await qa.acquireLocks(la, ['study:stu_1', 'patient:p1'], 1000)).toBe(true);
    expect(await qb.acquireLocks(lb, ['signer:n9', 'patient:p1'], 1000)).toBe(false);
    expect((await a.db.select({ key: locks.key, holder: locks.holder }).from(locks)).sort((x, y) => x.key.localeCompare(y.key))).toEqual([
      { key: 'patient:p1', holder: la.token },
      { key: 'study:stu_1', holder: la.token },
    ]);
    await qa.releaseLocks(la);
    expect(await qb.acquireLocks(lb, ['signer:n9', 'patient:p1'], 1000)).toBe(true);
    expect(await qb.acquireLocks(lb, ['patient:p1'], 1000)).toBe(true);
    await qb.releaseLocks(lb);

    for (let round = 0; round < 20; round++) {
      const [x, y] = await Promise.all([
        qa.acquireLocks(la, [`study:r${round}`, `patient:r${round}`], 1000),
        qb.acquireLocks(lb, [`signer:r${round}`, `patient:r${round}`], 1000),
      ]);
      expect(x !== y, `round ${round}: a ${x}, b ${y}`).toBe(true);
      const held = await a.db.select({ holder: locks.holder }).from(locks);
      expect(held.every((row) => row.holder === (x ? la : lb).token)).toBe(true);
      expect(held).toHaveLength(2);
      await qa.releaseLocks(la);
      await qb.releaseLocks(lb);
    }
  });

  it('release ends the attempt and gives back its locks in one commit', async () => {
    await enqueue('rep_t', 1000);
    const queue = fhir(a);
    const first = (await queue.claim(1000, LEASE_MS))!;
    await queue.acquireLocks(first, ['study:stu_1'], 1000);
    expect(await queue.release(first, 1000, 'shutdown', 1000)).toBe(true);
    expect(await delivery('rep_t')).toMatchObject({ state: 'queued', attempts: 0, leaseToken: null });
    expect(await a.db.select().from(locks)).toEqual([]);
    expect(await eventsOf('rep_t')).toEqual(['enqueued', 'attempt_started', 'released']);
  });

  it('an ending verb records the outcome, forgets the PDF link and gives back the locks in one commit; a lost lease records nothing but still frees its locks', async () => {
    await recordWebhookPg(a.pool, { webhookId: 'm1', eventId: 'e1', type: 'report.delivered', bodySha256: 's', report: { reportId: 'rep_e', studyId: 'stu_1', isCritical: false, presignedUrl: 'https://files.example/p.pdf' } }, 1000, ['fhir']);
    const qa = fhir(a);
    const lost = (await qa.claim(1000, LEASE_MS))!;
    await qa.acquireLocks(lost, ['study:stu_1', 'patient:p1'], 1000);
    const later = 1000 + LEASE_MS + 1;
    await qa.requeueExpired(later, 3);
    const owner = (await fhir(b).claim(later, LEASE_MS))!;
    await fhir(b).acquireLocks(owner, ['signer:n1'], later);
    expect(await finishDeliveryPg(a.pool, lost, { kind: 'delivered', refs: { DiagnosticReport: 'DiagnosticReport/late' }, contentHash: 'late' }, later)).toBe(false);
    expect(await a.db.select({ key: locks.key }).from(locks)).toEqual([{ key: 'signer:n1' }]);
    expect((await a.db.select({ url: inbox.presignedUrl }).from(inbox))[0]?.url).toBe('https://files.example/p.pdf');
    expect(await finishDeliveryPg(b.pool, owner, { kind: 'delivered', refs: { DiagnosticReport: 'DiagnosticReport/9' }, contentHash: 'h9' }, later + 1)).toBe(true);
    expect(await delivery('rep_e')).toMatchObject({ state: 'delivered', fhirRefs: { DiagnosticReport: 'DiagnosticReport/9' }, contentHash: 'h9' });
    expect(await a.db.select().from(locks)).toEqual([]);
    expect((await a.db.select({ url: inbox.presignedUrl }).from(inbox))[0]?.url).toBeNull();
  });

  it('two replicas returning expired leases at once: each job requeued and audited once', async () => {
    await inTransaction(a.pool, async (tx) => {
      for (let i = 0; i < 20; i++) await enqueueDeliveryPg(tx, { reportId: `rep_${i}`, studyId: `stu_${i}`, source: 'webhook' }, 1000);
    });
    for (let i = 0; i < 20; i++) await fhir(i % 2 ? a : b).claim(1000, LEASE_MS);
    const later = 1000 + LEASE_MS + 1;
    const counts = await Promise.all([fhir(a).requeueExpired(later, 3), fhir(b).requeueExpired(later, 3), fhir(a).requeueExpired(later, 3)]);
    expect(counts.reduce((sum, n) => sum + n, 0)).toBe(20);
    const expired = await a.db.select({ n: sql<number>`count(*)`.mapWith(Number) }).from(auditEvents).where(eq(auditEvents.event, 'lease_expired'));
    expect(expired[0]!.n).toBe(20);
    expect((await a.db.select({ state: deliveries.state }).from(deliveries)).every((row) => row.state === 'queued')).toBe(true);
  });

  it('orders sync <id>: one named order is claimed from synced or dead, never while another attempt holds it', async () => {
    const queue = pgJobQueue(a, PG_ORDER_QUEUE);
    await noteOrderChangePg(a.pool, { imagingStudyId: 'is-9', resource: 'ImagingStudy/is-9', version: '1', source: 'sweep' }, 1000);
    const running = (await queue.claim(1000, LEASE_MS, 'is-9'))!;
    expect(running).toMatchObject({ imagingStudyId: 'is-9', attempt: 1 });
    expect(await pgJobQueue(b, PG_ORDER_QUEUE).claim(1000, LEASE_MS, 'is-9')).toBeUndefined();
    expect(await finishOrderAttemptPg(a.pool, running, { kind: 'synced', detail: {} }, 2000)).toBe(true);
    expect(await queue.claim(1e12, LEASE_MS)).toBeUndefined();
    expect(await pgJobQueue(b, PG_ORDER_QUEUE).claim(3000, LEASE_MS, 'is-9')).toMatchObject({ imagingStudyId: 'is-9', attempt: 2 });
  });

  it('nextDueAt: the earliest waiting job of this target only', async () => {
    expect(await fhir(a).nextDueAt()).toBeUndefined();
    await enqueue('rep_late', 9000);
    await enqueue('rep_early', 5000, 'hl7v2');
    expect(await fhir(b).nextDueAt()).toBe(9000);
    expect(await pgJobQueue(b, pgDeliveryQueueOf('hl7v2')).nextDueAt()).toBe(5000);
  });

  it('the loop runner turns failures into verbs on PostgreSQL: retryable -> failed, permanent -> dead, Retry-After -> released', async () => {
    const now = Date.now();
    for (const id of ['rep_retry', 'rep_perm', 'rep_wait']) await enqueue(id, now);
    const failures: Record<string, SyncError> = {
      rep_retry: SyncError.retryable('fhir_unavailable', 'down'),
      rep_perm: SyncError.permanent('patient_mismatch', 'birthDate differs'),
      rep_wait: SyncError.retryable('fhir_rate_limited', 'slow down', { retryAfterMs: 3_600_000 }),
    };
    const seen: string[] = [];
    const loop = startJobLoop({
      queue: fhir(b),
      noun: 'test job',
      logFields: (lease) => ({ reportId: lease.reportId }),
      attempt: async ({ lease }): Promise<AttemptEnd> => {
        seen.push(lease.reportId);
        throw failures[lease.reportId];
      },
    }, { log: silent, settings: { ...SETTINGS, retryBaseMs: 3_600_000, retryMaxMs: 3_600_000 }, now: Date.now });
    const settled = async () => (await a.db.select({ state: deliveries.state }).from(deliveries).where(and(eq(deliveries.target, 'fhir'), eq(deliveries.state, 'in_progress')))).length === 0 && seen.length === 3;
    await waitFor('three attempts recorded', settled);
    await loop.stop();
    expect(await delivery('rep_retry')).toMatchObject({ state: 'failed', attempts: 1, lastErrorCode: 'fhir_unavailable' });
    expect(await delivery('rep_perm')).toMatchObject({ state: 'dead', attempts: 1, lastErrorCode: 'patient_mismatch' });
    expect(await delivery('rep_wait')).toMatchObject({ state: 'queued', attempts: 0 });
    expect((await delivery('rep_wait'))!.nextAttemptAt).toBeGreaterThan(Date.now() + 3_000_000);
    expect((await verifyAuditChainPg(a.db)).ok).toBe(true);
  });
});
