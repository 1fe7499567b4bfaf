import { randomUUID } from 'node:crypto';
import { and, asc, eq, inArray, is, lt, lte, SQL, sql } from 'drizzle-orm';
import type { SQLiteColumn } from 'drizzle-orm/sqlite-core';
import type { JobFailure, JobLease } from '../queue/job-queue.ts';
import { appendAuditEvent, type AuditEventName } from './audit.ts';
import type { JobKind, JobTable } from './job-kind.ts';
import type { Db, DbOrTx } from './open-store.ts';
import { preparedOnce, setPlaceholder, setPlaceholdersFor } from './prepared-statements.ts';

// The one leased-job queue, in SQLite. Every state change is fenced on the lease token and
// audited in the same transaction; the statements on every attempt's path are prepared once.

const WAITING = ['queued', 'failed'] as const;

// A job whose lease keeps expiring may be what takes its worker down (out of memory, a crash):
// after twice MAX_ATTEMPTS expiries it is dead-lettered instead of crash-looping the service.
// Twice, because a service that is restarted often for other reasons also expires leases.
export const LEASE_EXPIRIES_PER_ATTEMPT = 2;

export interface Claimed extends JobLease {
  /** The kind's own columns asked for at claim time (e.g. a delivery's study id). */
  row: Record<string, unknown>;
}

/**
 * Claims the most overdue due job with a fresh lease (or, with `only`, that one job in any
 * state a person may restart it from); the attempt is counted at claim time.
 */
export function claimJob(db: Db, kind: JobKind, now: number, leaseMs: number, extra: Record<string, SQLiteColumn> = {}, only?: string): Claimed | undefined {
  const t = kind.table;
  return db.transaction(
    (tx) => {
      const columns = { key: kind.key, attempts: t.attempts, ...extra };
      const next = only === undefined
        ? preparedOnce(tx, `${kind.name}.nextDue`, (db) =>
          db.select(columns).from(t).where(and(inPartition(kind), inArray(t.state, WAITING), lte(t.nextAttemptAt, sql.placeholder('now')))).orderBy(asc(t.nextAttemptAt)).limit(1).prepare(),
        ).get({ now })
        : tx.select(columns).from(t).where(and(eq(kind.key, only), inArray(t.state, [...WAITING, ...kind.claimableByPerson]))).get();
      if (!next) return undefined;
      const key = next.key as string;
      const lease: Claimed = { key, token: randomUUID(), attempt: (next.attempts as number) + 1, expiresAt: now + leaseMs, row: next };
      preparedOnce(tx, `${kind.name}.claim`, (db) =>
        db.update(t).set(setPlaceholdersFor(['state', 'attempts', 'leaseToken', 'leaseExpiresAt', 'updatedAt'])).where(eq(kind.key, sql.placeholder('key'))).prepare(),
      ).run({ state: 'in_progress', attempts: lease.attempt, leaseToken: lease.token, leaseExpiresAt: lease.expiresAt, updatedAt: now, key });
      audit(tx, kind, key, kind.events.started, now, { attempt: lease.attempt });
      return lease;
    },
    { behavior: 'immediate' },
  );
}

/** Extends a lease still held; false when it was lost (expired and taken over). */
export function renewJobLease(db: Db, kind: JobKind, lease: JobLease, now: number, leaseMs: number): boolean {
  const expiresAt = now + leaseMs;
  const { changes } = preparedOnce(db, `${kind.name}.renew`, (db) =>
    db.update(kind.table).set({ leaseExpiresAt: setPlaceholder('expiresAt') }).where(fencedBy(kind)).prepare(),
  ).run({ expiresAt, key: lease.key, token: lease.token });
  if (changes > 0) lease.expiresAt = expiresAt;
  return changes > 0;
}

/** Whether the lease is still ours and unexpired (checked right before an outside write). */
export function holdsJobLease(db: Db, kind: JobKind, lease: JobLease, now: number): boolean {
  const row = preparedOnce(db, `${kind.name}.leaseOf`, (db) =>
    db.select({ expiresAt: kind.table.leaseExpiresAt }).from(kind.table).where(fencedBy(kind)).prepare(),
  ).get({ key: lease.key, token: lease.token });
  return row !== undefined && (row.expiresAt ?? 0) > now;
}

export interface JobFinish {
  set: Record<string, unknown>;
  event: AuditEventName;
  detail: Record<string, unknown>;
  /** Values for placeholders inside SQL expressions of `set`. */
  params?: Record<string, unknown>;
}

/**
 * Ends the attempt: the change, the lease given up and the audit row in one transaction.
 * False when the lease was lost: another worker owns the job now; it decides, not us. One
 * statement per event and set of columns; SQL expressions in `set` are part of it (a caller
 * passes the same ones every time), plain values are bound.
 */
export function finishJob(db: Db, kind: JobKind, lease: JobLease, now: number, change: JobFinish): boolean {
  return db.transaction(
    (tx) => {
      const values = Object.fromEntries(Object.entries(change.set).filter(([, value]) => !is(value, SQL)));
      // Keyed by the columns too: two verbs may end with the same event (a delivery to FHIR and to HL7).
      const { changes } = preparedOnce(tx, `${kind.name}.finish.${change.event}.${Object.keys(change.set).join(',')}`, (db) =>
        db.update(kind.table)
          .set({ ...change.set, ...setPlaceholdersFor(Object.keys(values)), leaseToken: null, leaseExpiresAt: null, updatedAt: setPlaceholder('updatedAt') })
          .where(fencedBy(kind))
          .prepare(),
      ).run({ ...change.params, ...values, updatedAt: now, key: lease.key, token: lease.token });
      if (changes === 0) return false;
      audit(tx, kind, lease.key, change.event, now, { attempt: lease.attempt, ...change.detail });
      return true;
    },
    { behavior: 'immediate' },
  );
}

/** Will be tried again at `nextAttemptAt`. */
export function failJob(db: Db, kind: JobKind, lease: JobLease, failure: JobFailure, nextAttemptAt: number, now: number): boolean {
  return finishJob(db, kind, lease, now, {
    set: { state: 'failed', nextAttemptAt, lastErrorCode: failure.code, lastErrorMessage: failure.message },
    event: kind.events.failed,
    detail: { code: failure.code, message: failure.message, retryInMs: nextAttemptAt - now },
  });
}

/** Dead-lettered for a person: after MAX_ATTEMPTS or a permanent error. */
export function deadJob(db: Db, kind: JobKind, lease: JobLease, failure: JobFailure, now: number, instead?: Pick<JobFinish, 'set' | 'params'>): boolean {
  return finishJob(db, kind, lease, now, {
    set: { state: 'dead', ...instead?.set, lastErrorCode: failure.code, lastErrorMessage: failure.message },
    event: kind.events.dead,
    detail: { code: failure.code, message: failure.message },
    ...(instead?.params ? { params: instead.params } : {}),
  });
}

/** Gives the job back without spending an attempt (lock busy, shutdown, rate limited). */
export function releaseJob(db: Db, kind: JobKind, lease: JobLease, nextAttemptAt: number, reason: string, now: number): boolean {
  return finishJob(db, kind, lease, now, {
    set: { state: 'queued', nextAttemptAt, attempts: giveBackAttempt(kind.table) },
    event: kind.events.released,
    detail: { reason },
  });
}

/**
 * A fenced bookkeeping step of a running attempt and its audit row in one transaction (no row
 * for `event: null`: a step that changes no state). False when the lease was lost.
 */
export function recordJobStep(db: Db, kind: JobKind, lease: JobLease, set: Record<string, unknown>, event: AuditEventName | null, detail: Record<string, unknown>, now: number): boolean {
  return db.transaction(
    (tx) => {
      const { changes } = tx.update(kind.table).set({ ...set, updatedAt: now }).where(and(eq(kind.key, lease.key), eq(kind.table.leaseToken, lease.token), eq(kind.table.state, 'in_progress'))).run();
      if (changes === 0) return false;
      if (event) audit(tx, kind, lease.key, event, now, { attempt: lease.attempt, ...detail });
      return true;
    },
    { behavior: 'immediate' },
  );
}

/**
 * Returns expired leases to the queue (their worker died or hung). The outcome of such an
 * attempt is unknown, so it is not counted as one; the retry is safe because every outside
 * write is idempotent. A job that keeps expiring is dead-lettered (`lease_expired_repeatedly`).
 */
export function requeueExpiredJobs(db: Db, kind: JobKind, now: number, maxAttempts: number): number {
  const t = kind.table;
  const maxExpiries = maxAttempts * LEASE_EXPIRIES_PER_ATTEMPT;
  return db.transaction(
    (tx) => {
      const expired = tx.select({ key: kind.key, expiries: t.leaseExpiries }).from(t).where(and(inPartition(kind), eq(t.state, 'in_progress'), lt(t.leaseExpiresAt, now))).all();
      for (const { key, expiries } of expired) {
        const count = expiries + 1;
        audit(tx, kind, key as string, kind.events.expired, now, { expiries: count });
        const crashLooping = count >= maxExpiries;
        const free = { leaseToken: null, leaseExpiresAt: null, leaseExpiries: count, updatedAt: now };
        tx.update(t)
          .set(crashLooping
            ? { ...free, state: 'dead', lastErrorCode: 'lease_expired_repeatedly', lastErrorMessage: `its worker stopped ${maxExpiries} times while working on it (crash or hang); a person must look` }
            : { ...free, state: 'queued', attempts: giveBackAttempt(t), nextAttemptAt: now })
          .where(eq(kind.key, key as string))
          .run();
        if (crashLooping) audit(tx, kind, key as string, kind.events.dead, now, { code: 'lease_expired_repeatedly' });
      }
      return expired.length;
    },
    { behavior: 'immediate' },
  );
}

/** Earliest due time among waiting jobs, or just after the earliest lease end, so an idle loop sleeps exactly until then. */
export function nextJobDueAt(db: Db, kind: JobKind): number | undefined {
  const t = kind.table;
  // Two lookups, each along the claim index, rather than one min() over a CASE that would read
  // every waiting row of a backlog.
  const waiting = preparedOnce(db, `${kind.name}.nextDueAt`, (db) =>
    db.select({ at: sql<number | null>`min(${t.nextAttemptAt})` }).from(t).where(and(inPartition(kind), inArray(t.state, WAITING))).prepare(),
  ).get()?.at ?? undefined;
  const leaseEnd = preparedOnce(db, `${kind.name}.nextLeaseEnd`, (db) =>
    db.select({ at: sql<number | null>`min(${t.leaseExpiresAt})` }).from(t).where(and(inPartition(kind), eq(t.state, 'in_progress'))).prepare(),
  ).get()?.at ?? undefined;
  // Just after: requeueExpired returns leases that ended before `now`.
  return earliest(waiting, leaseEnd === undefined ? undefined : leaseEnd + 1);
}

function earliest(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined ? b : b === undefined ? a : Math.min(a, b);
}

// A partition's value is fixed per kind, so it is part of the kind's prepared statements.
function inPartition(kind: JobKind): SQL | undefined {
  return kind.partition ? eq(kind.partition.column, kind.partition.value) : undefined;
}

function giveBackAttempt(t: JobTable): SQL {
  return sql`max(${t.attempts} - 1, 0)`;
}

function fencedBy(kind: JobKind) {
  return and(eq(kind.key, sql.placeholder('key')), eq(kind.table.leaseToken, sql.placeholder('token')), eq(kind.table.state, 'in_progress'));
}

function audit(tx: DbOrTx, kind: JobKind, key: string, event: AuditEventName, at: number, detail: Record<string, unknown>): void {
  const subject = kind.subject(key);
  appendAuditEvent(tx, { reportId: subject.reportId, event, at, detail: { ...subject.detail, ...detail } });
}
