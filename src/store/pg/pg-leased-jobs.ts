import { randomUUID } from 'node:crypto';
import { and, asc, eq, inArray, lt, lte, sql, type SQL } from 'drizzle-orm';
import type { PgColumn } from 'drizzle-orm/pg-core';
import type { Pool } from 'pg';
import type { JobFailure, JobLease } from '../../queue/job-queue.ts';
import type { AuditEventName } from '../audit.ts';
import { LEASE_EXPIRIES_PER_ATTEMPT, type Claimed, type JobFinish } from '../leased-jobs.ts';
import { appendAuditEventPg } from './pg-audit.ts';
import type { PgJobKind, PgJobTable } from './pg-job-kind.ts';
import { extendLocksPg } from './pg-locks.ts';
import { wakeOnCommit } from './pg-notify.ts';
import { inTransaction, type PgDb, type PgTx } from './pg-transaction.ts';

// The leased-job queue in PostgreSQL, verb for verb the SQLite one (../leased-jobs.ts), for any
// number of replicas: a claim locks its row with FOR UPDATE SKIP LOCKED (two replicas never
// claim one job, and neither waits for the other), and every later write names the lease token
// in its WHERE, so a late attempt whose job was taken over changes nothing.

const WAITING = ['queued', 'failed'] as const;

// Claims, renewals and stateless steps commit without waiting for their WAL flush, as SQLite's
// do without fsync (pg-transaction.ts): lost in a server crash, the job is simply still queued.
// It matters more here: the audit chain's lock is held until COMMIT, so a flush inside it would
// let one claim through per disk flush.
const NO_FSYNC = { durable: false } as const;

export async function claimJobPg(pool: Pool, kind: PgJobKind, now: number, leaseMs: number, extra: Record<string, PgColumn> = {}, only?: string): Promise<Claimed | undefined> {
  return inTransaction(pool, async (tx) => {
    const t = kind.table;
    const columns = { key: kind.key, attempts: t.attempts, ...extra };
    const [next] = only === undefined
      ? await tx.db.select(columns).from(t).where(and(inPartition(kind), inArray(t.state, WAITING), lte(t.nextAttemptAt, now))).orderBy(asc(t.nextAttemptAt)).limit(1).for('update', { skipLocked: true })
      // One named job (`orders sync <id>`): wait for whoever holds its row, then look again.
      : await tx.db.select(columns).from(t).where(and(eq(kind.key, only), inArray(t.state, [...WAITING, ...kind.claimableByPerson]))).for('update');
    if (!next) return undefined;
    const key = next.key as string;
    const lease: Claimed = { key, token: randomUUID(), attempt: (next.attempts as number) + 1, expiresAt: now + leaseMs, row: next };
    await tx.db.update(t).set({ state: 'in_progress', attempts: lease.attempt, leaseToken: lease.token, leaseExpiresAt: lease.expiresAt, updatedAt: now }).where(eq(kind.key, key));
    audit(tx, kind, key, kind.events.started, now, { attempt: lease.attempt });
    return lease;
  }, NO_FSYNC);
}

/** Extends a lease still held, and every lock its attempt holds; false when it was lost. */
export async function renewJobLeasePg(pool: Pool, kind: PgJobKind, lease: JobLease, now: number, leaseMs: number): Promise<boolean> {
  const expiresAt = now + leaseMs;
  const held = await inTransaction(pool, async (tx) => {
    const renewed = await tx.db.update(kind.table).set({ leaseExpiresAt: expiresAt }).where(fencedBy(kind, lease)).returning({ key: kind.key });
    if (renewed.length === 0) return false;
    await extendLocksPg(tx, lease.token, expiresAt);
    return true;
  }, NO_FSYNC);
  if (held) lease.expiresAt = expiresAt;
  return held;
}

export async function holdsJobLeasePg(db: PgDb, kind: PgJobKind, lease: JobLease, now: number): Promise<boolean> {
  const [row] = await db.select({ expiresAt: kind.table.leaseExpiresAt }).from(kind.table).where(fencedBy(kind, lease));
  return row !== undefined && (row.expiresAt ?? 0) > now;
}

/** Ends the attempt: the change, the lease given up and the audit row in one transaction; false when the lease was lost. */
export function finishJobPg(pool: Pool, kind: PgJobKind, lease: JobLease, now: number, change: Omit<JobFinish, 'params'>): Promise<boolean> {
  return inTransaction(pool, async (tx) => {
    const done = await tx.db.update(kind.table)
      .set({ ...change.set, leaseToken: null, leaseExpiresAt: null, updatedAt: now })
      .where(fencedBy(kind, lease))
      .returning({ key: kind.key });
    if (done.length === 0) return false;
    audit(tx, kind, lease.key, change.event, now, { attempt: lease.attempt, ...change.detail });
    const { state, nextAttemptAt } = change.set;
    // Given back due now (a shutdown's give-back): another replica may take it at once.
    if (state === 'queued' && typeof nextAttemptAt === 'number' && nextAttemptAt <= now) wakeOnCommit(tx, kind.wakeName(lease.key));
    return true;
  });
}

export function failJobPg(pool: Pool, kind: PgJobKind, lease: JobLease, failure: JobFailure, nextAttemptAt: number, now: number): Promise<boolean> {
  return finishJobPg(pool, kind, lease, now, {
    set: { state: 'failed', nextAttemptAt, lastErrorCode: failure.code, lastErrorMessage: failure.message },
    event: kind.events.failed,
    detail: { code: failure.code, message: failure.message, retryInMs: nextAttemptAt - now },
  });
}

/** `instead`: the kind's own dead-letter columns (an order changed meanwhile is queued instead). */
export function deadJobPg(pool: Pool, kind: PgJobKind, lease: JobLease, failure: JobFailure, now: number, instead?: Record<string, unknown>): Promise<boolean> {
  return finishJobPg(pool, kind, lease, now, {
    set: { state: 'dead', ...instead, lastErrorCode: failure.code, lastErrorMessage: failure.message },
    event: kind.events.dead,
    detail: { code: failure.code, message: failure.message },
  });
}

export function releaseJobPg(pool: Pool, kind: PgJobKind, lease: JobLease, nextAttemptAt: number, reason: string, now: number): Promise<boolean> {
  return finishJobPg(pool, kind, lease, now, {
    set: { state: 'queued', nextAttemptAt, attempts: giveBackAttempt(kind.table) },
    event: kind.events.released,
    detail: { reason },
  });
}

/** A fenced step of a running attempt and its audit row (none for `event: null`); false when the lease was lost. */
export function recordJobStepPg(pool: Pool, kind: PgJobKind, lease: JobLease, set: Record<string, unknown>, event: AuditEventName | null, detail: Record<string, unknown>, now: number): Promise<boolean> {
  return inTransaction(pool, async (tx) => {
    const done = await tx.db.update(kind.table).set({ ...set, updatedAt: now }).where(fencedBy(kind, lease)).returning({ key: kind.key });
    if (done.length === 0) return false;
    if (event) audit(tx, kind, lease.key, event, now, { attempt: lease.attempt, ...detail });
    return true;
    // A step that changes no state (event null) is bookkeeping the next attempt redoes.
  }, event === null ? NO_FSYNC : {});
}

/**
 * Returns expired leases to the queue, as in SQLite: not counted as an attempt, dead-lettered as
 * `lease_expired_repeatedly` past MAX_ATTEMPTS x LEASE_EXPIRIES_PER_ATTEMPT. Rows another
 * replica is requeueing right now are skipped, not waited for.
 */
export function requeueExpiredJobsPg(pool: Pool, kind: PgJobKind, now: number, maxAttempts: number): Promise<number> {
  const t = kind.table;
  const maxExpiries = maxAttempts * LEASE_EXPIRIES_PER_ATTEMPT;
  return inTransaction(pool, async (tx) => {
    const expired = await tx.db.select({ key: kind.key, expiries: t.leaseExpiries }).from(t)
      .where(and(inPartition(kind), eq(t.state, 'in_progress'), lt(t.leaseExpiresAt, now)))
      .for('update', { skipLocked: true });
    for (const { key, expiries } of expired as { key: string; expiries: number }[]) {
      const count = expiries + 1;
      audit(tx, kind, key, kind.events.expired, now, { expiries: count });
      const crashLooping = count >= maxExpiries;
      const free = { leaseToken: null, leaseExpiresAt: null, leaseExpiries: count, updatedAt: now };
      await tx.db.update(t)
        .set(crashLooping
          ? { ...free, state: 'dead', lastErrorCode: 'lease_expired_repeatedly', lastErrorMessage: `its worker stopped ${maxExpiries} times while working on it (crash or hang); a person must look` }
          : { ...free, state: 'queued', attempts: giveBackAttempt(t), nextAttemptAt: now })
        .where(eq(kind.key, key));
      if (crashLooping) audit(tx, kind, key, kind.events.dead, now, { code: 'lease_expired_repeatedly' });
      else wakeOnCommit(tx, kind.wakeName(key));
    }
    return expired.length;
  });
}

export async function nextJobDueAtPg(db: PgDb, kind: PgJobKind): Promise<number | undefined> {
  const t = kind.table;
  // Two subqueries, each along the claim index; least() skips the one that is NULL. Just after a
  // lease's end: requeueExpired returns leases that ended before `now`.
  const waiting = db.select({ at: sql`min(${t.nextAttemptAt})` }).from(t).where(and(inPartition(kind), inArray(t.state, WAITING)));
  const leaseEnd = db.select({ at: sql`min(${t.leaseExpiresAt}) + 1` }).from(t).where(and(inPartition(kind), eq(t.state, 'in_progress')));
  const [row] = await db.select({ at: sql<number | null>`least((${waiting}), (${leaseEnd}))`.mapWith(Number) }).from(sql`(select 1) as one`);
  return row?.at ?? undefined;
}

function inPartition(kind: PgJobKind): SQL | undefined {
  return kind.partition ? eq(kind.partition.column, kind.partition.value) : undefined;
}

function giveBackAttempt(t: PgJobTable): SQL {
  return sql`greatest(${t.attempts} - 1, 0)`;
}

function fencedBy(kind: PgJobKind, lease: JobLease): SQL | undefined {
  return and(eq(kind.key, lease.key), eq(kind.table.leaseToken, lease.token), eq(kind.table.state, 'in_progress'));
}

function audit(tx: PgTx, kind: PgJobKind, key: string, event: AuditEventName, at: number, detail: Record<string, unknown>): void {
  const subject = kind.subject(key);
  appendAuditEventPg(tx, { reportId: subject.reportId, event, at, detail: { ...subject.detail, ...detail } });
}
