import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { JobQueue } from '../../src/queue/job-queue.ts';
import type { AuditEventName } from '../../src/store/audit.ts';
import type { Lease } from '../../src/store/deliveries.ts';
import type { DeliveryEnding } from '../../src/store/store.ts';
import { LEASE_EXPIRIES_PER_ATTEMPT } from '../../src/store/leased-jobs.ts';

/** One database behind the JobQueue interface, and the few reads the contract checks it by. */
export interface QueueBackend {
  queue(target: string): JobQueue<Lease, AuditEventName, DeliveryEnding>;
  enqueue(reportId: string, now: number, target?: string): Promise<void>;
  delivery(reportId: string, target?: string): Promise<{ state: string; attempts: number; leaseToken: string | null; nextAttemptAt: number; lastErrorCode: string | null } | undefined>;
  events(reportId: string): Promise<string[]>;
  locks(): Promise<{ key: string; holder: string }[]>;
  verify(): Promise<{ ok: boolean }>;
  /** Empties the database between cases. */
  reset(): Promise<void>;
  close(): Promise<void>;
}

const LEASE_MS = 60_000;

/**
 * The leased-job queue's behaviour, stated once and run against every store (SQLite and
 * PostgreSQL): only the JobQueue interface is used, every answer awaited (SQLite's come now).
 */
export function jobQueueContract(name: string, open: () => Promise<QueueBackend>): void {
  describe(`the leased-job queue contract: ${name}`, () => {
    let db: QueueBackend;
    beforeAll(async () => {
      db = await open();
    });
    beforeEach(() => db.reset());
    afterAll(() => db?.close());

    it('claims the most overdue due job first, counts the attempt at claim time, and nothing before it is due', async () => {
      await db.enqueue('rep_later', 2000);
      await db.enqueue('rep_first', 1000);
      const queue = db.queue('fhir');
      expect(await queue.claim(999, LEASE_MS)).toBeUndefined();
      const first = await queue.claim(2000, LEASE_MS);
      expect(first).toMatchObject({ reportId: 'rep_first', key: 'fhir:rep_first', attempt: 1, expiresAt: 2000 + LEASE_MS, target: 'fhir', studyId: 'stu_1' });
      expect(await db.delivery('rep_first')).toMatchObject({ state: 'in_progress', attempts: 1, leaseToken: first!.token });
      expect(await queue.claim(2000, LEASE_MS)).toMatchObject({ reportId: 'rep_later' });
      expect(await queue.claim(2000, LEASE_MS)).toBeUndefined();
      expect(await db.events('rep_first')).toEqual(['enqueued', 'attempt_started']);
    });

    it('fail: due again at nextAttemptAt with the attempt counted; dead: never claimed again; release: the attempt given back', async () => {
      for (const id of ['rep_fail', 'rep_dead', 'rep_release']) await db.enqueue(id, 1000);
      const queue = db.queue('fhir');
      const leases = new Map<string, Lease>();
      for (let i = 0; i < 3; i++) {
        const lease = (await queue.claim(1000, LEASE_MS))!;
        leases.set(lease.reportId, lease);
      }
      expect(await queue.fail(leases.get('rep_fail')!, { code: 'fhir_unavailable', message: 'down' }, 5000, 1000)).toBe(true);
      expect(await queue.dead(leases.get('rep_dead')!, { code: 'patient_mismatch', message: 'differs' }, 1000)).toBe(true);
      expect(await queue.release(leases.get('rep_release')!, 3000, 'study_or_patient_locked', 1000)).toBe(true);
      expect(await db.delivery('rep_fail')).toMatchObject({ state: 'failed', attempts: 1, leaseToken: null, nextAttemptAt: 5000, lastErrorCode: 'fhir_unavailable' });
      expect(await db.delivery('rep_dead')).toMatchObject({ state: 'dead', attempts: 1, leaseToken: null, lastErrorCode: 'patient_mismatch' });
      expect(await db.delivery('rep_release')).toMatchObject({ state: 'queued', attempts: 0, leaseToken: null, nextAttemptAt: 3000 });
      expect(await queue.nextDueAt()).toBe(3000);
      expect(await queue.claim(4999, LEASE_MS)).toMatchObject({ reportId: 'rep_release', attempt: 1 });
      expect(await queue.claim(5000, LEASE_MS)).toMatchObject({ reportId: 'rep_fail', attempt: 2 });
      expect(await queue.claim(1e12, LEASE_MS)).toBeUndefined();
      expect(await db.events('rep_fail')).toEqual(['enqueued', 'attempt_started', 'attempt_failed', 'attempt_started']);
      expect((await db.verify()).ok).toBe(true);
    });

    it('a lease lost to expiry and taken over: every verb of the late attempt answers false and changes nothing', async () => {
      await db.enqueue('rep_f', 1000);
      const queue = db.queue('fhir');
      const lost = (await queue.claim(1000, LEASE_MS))!;
      const later = lost.expiresAt + 1;
      expect(await queue.holds(lost, lost.expiresAt - 1)).toBe(true);
      expect(await queue.requeueExpired(lost.expiresAt, 3)).toBe(0);
      expect(await queue.requeueExpired(later, 3)).toBe(1);
      const owner = (await queue.claim(later, LEASE_MS))!;
      expect(owner).toMatchObject({ reportId: 'rep_f', attempt: 1 });
      expect(await queue.holds(lost, later)).toBe(false);
      expect(await queue.renew(lost, later, LEASE_MS)).toBe(false);
      expect(await queue.recordStep(lost, { contentHash: 'late' }, 'hl7_sent', {}, later)).toBe(false);
      expect(await queue.fail(lost, { code: 'x', message: 'late' }, later, later)).toBe(false);
      expect(await queue.dead(lost, { code: 'x', message: 'late' }, later)).toBe(false);
      expect(await queue.release(lost, later, 'shutdown', later)).toBe(false);
      expect(await db.delivery('rep_f')).toMatchObject({ state: 'in_progress', leaseToken: owner.token, lastErrorCode: null });
      expect(await queue.recordStep(owner, { contentHash: 'ours' }, null, {}, later)).toBe(true);
      expect(await db.events('rep_f')).toEqual(['enqueued', 'attempt_started', 'lease_expired', 'attempt_started']);
    });

    it('locks: all or none, re-taken by their holder, free once the holder\'s lease lapsed, extended by renew', async () => {
      await db.enqueue('rep_1', 1000);
      await db.enqueue('rep_2', 1000);
      const queue = db.queue('fhir');
      const one = (await queue.claim(1000, LEASE_MS))!;
      const two = (await queue.claim(1000, LEASE_MS))!;
      expect(await queue.acquireLocks(one, ['study:s', 'patient:p'], 1000)).toBe(true);
      expect(await queue.acquireLocks(one, ['patient:p'], 1000)).toBe(true);
      expect(await queue.acquireLocks(two, ['signer:n', 'patient:p'], 1000)).toBe(false);
      expect((await db.locks()).map((lock) => lock.key).sort()).toEqual(['patient:p', 'study:s']);
      expect(await queue.renew(one, 30_000, LEASE_MS)).toBe(true);
      expect(await queue.acquireLocks(two, ['patient:p'], 1000 + LEASE_MS + 1)).toBe(false);
      expect(await queue.acquireLocks(two, ['patient:p'], 30_000 + LEASE_MS + 1)).toBe(true);
      await queue.releaseLocks(one);
      expect(await db.locks()).toEqual([{ key: 'patient:p', holder: two.token }]);
    });

    it('the verbs that end an attempt give back its locks in the same commit, also when its lease was lost', async () => {
      await db.enqueue('rep_t', 1000);
      const queue = db.queue('fhir');
      const first = (await queue.claim(1000, LEASE_MS))!;
      await queue.acquireLocks(first, ['study:s'], 1000);
      expect(await queue.release(first, 1000, 'shutdown', 1000)).toBe(true);
      expect(await db.delivery('rep_t')).toMatchObject({ state: 'queued', leaseToken: null });
      expect(await db.locks()).toEqual([]);
      const late = (await queue.claim(1000, 10))!;
      await queue.acquireLocks(late, ['study:s'], 1000);
      await queue.requeueExpired(2000, 3);
      const owner = (await queue.claim(2000, LEASE_MS))!;
      expect(await queue.finish(late, { kind: 'skipped', code: 'study_cancelled', message: 'late' }, 2001)).toBe(false);
      expect(await db.locks()).toEqual([]);
      expect(await db.delivery('rep_t')).toMatchObject({ state: 'in_progress', leaseToken: owner.token });
      expect(await db.events('rep_t')).toEqual(['enqueued', 'attempt_started', 'released', 'attempt_started', 'lease_expired', 'attempt_started']);
    });

    it(`a job whose lease keeps expiring is dead-lettered after MAX_ATTEMPTS x ${LEASE_EXPIRIES_PER_ATTEMPT} expiries`, async () => {
      await db.enqueue('rep_crash', 1000);
      const queue = db.queue('fhir');
      let at = 1000;
      for (let i = 0; i < 2 * LEASE_EXPIRIES_PER_ATTEMPT; i++) {
        expect(await queue.claim(at, LEASE_MS)).toBeDefined();
        at += LEASE_MS + 1;
        expect(await queue.requeueExpired(at, 2)).toBe(1);
      }
      expect(await db.delivery('rep_crash')).toMatchObject({ state: 'dead', lastErrorCode: 'lease_expired_repeatedly' });
      expect(await queue.claim(at, LEASE_MS)).toBeUndefined();
      expect((await db.events('rep_crash')).slice(-2)).toEqual(['lease_expired', 'dead']);
      expect((await db.verify()).ok).toBe(true);
    });

    it('nextDueAt is also just after the earliest lease in progress ends: a dead worker\'s job is taken over then, a renewed lease moves it', async () => {
      await db.enqueue('rep_a', 1000);
      await db.enqueue('rep_b', 50_000);
      const queue = db.queue('fhir');
      const lease = await queue.claim(1000, 5_000);
      expect(lease).toMatchObject({ reportId: 'rep_a' });
      expect(await queue.nextDueAt()).toBe(6001);
      expect(await queue.renew(lease!, 2000, 5_000)).toBe(true);
      expect(await queue.nextDueAt()).toBe(7001);
      // Not yet ended at its last instant; returned just after.
      expect(await queue.requeueExpired(7000, 12)).toBe(0);
      expect(await queue.requeueExpired(7001, 12)).toBe(1);
      expect(await queue.claim(7001, LEASE_MS)).toMatchObject({ reportId: 'rep_a', attempt: 1 });
      // Now the waiting job comes first again.
      expect(await queue.nextDueAt()).toBe(50_000);
    });

    it('each target is its own queue: claims and nextDueAt see only their target', async () => {
      await db.enqueue('rep_a', 5000, 'hl7v2');
      await db.enqueue('rep_a', 9000, 'fhir');
      expect(await db.queue('fhir').nextDueAt()).toBe(9000);
      expect(await db.queue('hl7v2').nextDueAt()).toBe(5000);
      expect(await db.queue('fhir').claim(6000, LEASE_MS)).toBeUndefined();
      expect(await db.queue('hl7v2').claim(6000, LEASE_MS)).toMatchObject({ key: 'hl7v2:rep_a', target: 'hl7v2' });
      expect(await db.queue('fhir-documents').nextDueAt()).toBeUndefined();
    });
  });
}
