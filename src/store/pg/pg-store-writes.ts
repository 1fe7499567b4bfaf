import { randomBytes } from 'node:crypto';
import { and, eq, inArray, sql } from 'drizzle-orm';
import type { Pool } from 'pg';
import { operatorActionDetail } from '../operator-action.ts';
import {
  FIRST_STARTED_KEY, IdentifierSystemsChangedError,
  type DeliveryState, type EnqueueInput, type OperatorAction, type PolledStudy, type ReconcileResult, type RequeueResult, type StudySighting,
} from '../store.ts';
import { appendAuditEventPg } from './pg-audit.ts';
import { enqueueDeliveryPg } from './pg-deliveries.ts';
import { wakeOnCommit } from './pg-notify.ts';
import { inTransaction, type PgDb, type PgTx } from './pg-transaction.ts';
import { deliveries, orders, polledStudies, settings } from './schema.ts';

// The Store's writes on PostgreSQL beyond the queue verbs, each one transaction, as their SQLite
// twins (deliveries.ts requeue/replay, requeue-dead.ts, polled-studies.ts, order-status.ts,
// settings-values.ts, identifier-systems-guard.ts, first-start.ts, mrn-hash.ts). Rows a person's
// action or a sweep changes are locked (FOR UPDATE) first: two replicas doing the same apply one
// after the other and the second sees the first's outcome.

/** A person's retry (from failed, dead or skipped) or replay (from delivered), every target unless one is named. */
export function requeueFromPg(pool: Pool, reportId: string, target: string | undefined, from: readonly DeliveryState[], event: 'retried' | 'replayed', now: number, action: OperatorAction): Promise<RequeueResult> {
  return inTransaction(pool, async (tx) => {
    const rows = await tx.db.select().from(deliveries)
      .where(and(eq(deliveries.reportId, reportId), target === undefined ? undefined : eq(deliveries.target, target))).for('update');
    if (rows.length === 0) return 'not_found';
    const eligible = rows.filter((row) => from.includes(row.state));
    for (const row of eligible) {
      await tx.db.update(deliveries).set({ state: 'queued', attempts: 0, leaseExpiries: 0, nextAttemptAt: now, updatedAt: now }).where(eq(deliveries.id, row.id));
      appendAuditEventPg(tx, { reportId, event, at: now, detail: { target: row.target, ...operatorActionDetail(action), previousState: row.state, previousCode: row.lastErrorCode } });
      wakeOnCommit(tx, `deliveries.${row.target}`);
    }
    return eligible.length > 0 ? 'requeued' : 'not_retryable';
  });
}

/** Every dead delivery of every target back to the queue, in one transaction; how many. */
export function requeueDeadPg(pool: Pool, now: number, action: OperatorAction): Promise<number> {
  return inTransaction(pool, async (tx) => {
    const dead = await tx.db.select({ reportId: deliveries.reportId, target: deliveries.target }).from(deliveries).where(eq(deliveries.state, 'dead')).orderBy(deliveries.id).for('update', { skipLocked: true });
    let requeued = 0;
    for (const { reportId, target } of dead) {
      if ((await requeueFromPg(pool, reportId, target, ['dead'], 'retried', now, action)) === 'requeued') requeued += 1;
    }
    return requeued;
  });
}

export async function getPolledStudyPg(db: PgDb, studyId: string): Promise<PolledStudy | undefined> {
  const [row] = await db.select().from(polledStudies).where(eq(polledStudies.studyId, studyId));
  return row;
}

/**
 * One study seen by a sweep (polled-studies.ts): enqueues completed reports without a delivery,
 * flags a cancellation or a demographic change after a delivery once, keeps the sighting. The
 * study's row is created first and then locked, so two replicas' sweeps of one study take turns
 * and the second finds the signature already saved.
 */
export function reconcileStudyPg(pool: Pool, study: StudySighting, source: EnqueueInput['source'], now: number, targets: readonly string[]): Promise<ReconcileResult> {
  return inTransaction(pool, async (tx) => {
    await tx.db.insert(polledStudies).values({ studyId: study.studyId, signature: '', demographicHashes: {}, seenAt: now }).onConflictDoNothing();
    const [row] = await tx.db.select().from(polledStudies).where(eq(polledStudies.studyId, study.studyId)).for('update');
    const seen = row && row.signature !== '' ? row : undefined;
    if (seen?.signature === study.signature) return { changed: false, enqueued: [] };
    const enqueued: string[] = [];
    for (const r of study.completedReports) {
      if (await enqueueDeliveryPg(tx, { reportId: r.reportId, studyId: study.studyId, source, isCritical: r.isCritical, targets }, now)) enqueued.push(r.reportId);
    }
    const [delivered] = await tx.db.select({ reportId: deliveries.reportId }).from(deliveries)
      .where(and(eq(deliveries.studyId, study.studyId), eq(deliveries.state, 'delivered'))).limit(1);
    let cancelledFlagged = seen?.cancelledFlagged ?? false;
    if (delivered && study.isCancelled && !cancelledFlagged) {
      // Clinical documents are not withdrawn by a machine: flag it, never retract.
      appendAuditEventPg(tx, { reportId: delivered.reportId, event: 'study_cancelled_after_delivery', at: now, detail: { studyId: study.studyId } });
      cancelledFlagged = true;
    }
    const fields = seen && delivered ? changedFields(seen.demographicHashes, study.demographicHashes) : [];
    if (delivered && fields.length > 0) {
      appendAuditEventPg(tx, { reportId: delivered.reportId, event: 'demographics_changed', at: now, detail: { studyId: study.studyId, fields } });
    }
    await tx.db.update(polledStudies)
      .set({ signature: study.signature, demographicHashes: study.demographicHashes, cancelledFlagged, seenAt: now })
      .where(eq(polledStudies.studyId, study.studyId));
    return { changed: true, enqueued };
  });
}

function changedFields(before: Record<string, string>, after: Record<string, string>): string[] {
  return Object.keys(after).filter((field) => before[field] !== undefined && before[field] !== after[field]);
}

/** A person's retry of failed and dead orders (or one); how many. */
export function requeueOrdersPg(pool: Pool, now: number, action: OperatorAction, imagingStudyId?: string): Promise<number> {
  return inTransaction(pool, async (tx) => {
    const rows = await tx.db.select({ id: orders.imagingStudyId, state: orders.state, code: orders.lastErrorCode }).from(orders)
      .where(and(inArray(orders.state, ['failed', 'dead']), imagingStudyId ? eq(orders.imagingStudyId, imagingStudyId) : undefined)).for('update');
    for (const row of rows) {
      await tx.db.update(orders).set({ state: 'queued', attempts: 0, nextAttemptAt: now, updatedAt: now }).where(eq(orders.imagingStudyId, row.id));
      appendAuditEventPg(tx, { reportId: null, event: 'order_retried', at: now, detail: { order: row.id, ...operatorActionDetail(action), previousState: row.state, previousCode: row.code } });
    }
    if (rows.length > 0) wakeOnCommit(tx, 'orders');
    return rows.length;
  });
}

export async function readSettingPg(db: PgDb | PgTx['db'], key: string): Promise<string | undefined> {
  const [row] = await db.select({ value: settings.value }).from(settings).where(eq(settings.key, key));
  return row?.value;
}

export function writeSettingPg(pool: Pool, key: string, value: string | undefined, now: number): Promise<void> {
  return inTransaction(pool, async (tx) => {
    if (value === undefined) await tx.db.delete(settings).where(eq(settings.key, key));
    else await tx.db.insert(settings).values({ key, value, updatedAt: now }).onConflictDoUpdate({ target: settings.key, set: { value, updatedAt: now } });
  });
}

const IDENTIFIER_SYSTEMS_KEY = 'identifier_systems';

/** Refuses changed identifier systems unless told (identifier-systems-guard.ts), then records them. */
export function checkIdentifierSystemsPg(pool: Pool, systems: Record<string, string>, acceptChange: boolean, now: number): Promise<void> {
  const current = JSON.stringify(Object.entries(systems).sort(([a], [b]) => a.localeCompare(b)));
  return inTransaction(pool, async (tx) => {
    const [stored] = await tx.db.select().from(settings).where(eq(settings.key, IDENTIFIER_SYSTEMS_KEY)).for('update');
    if (stored && stored.value !== current && !acceptChange) {
      const before = new Map(JSON.parse(stored.value) as [string, string][]);
      const changed = Object.keys(systems).filter((k) => before.get(k) !== systems[k]);
      throw new IdentifierSystemsChangedError(
        `identifier settings changed since deliveries were recorded (${changed.join(', ')}); replays would duplicate FHIR resources. Restore them, or start with --accept-identifier-change`,
      );
    }
    await tx.db.insert(settings).values({ key: IDENTIFIER_SYSTEMS_KEY, value: current, updatedAt: now }).onConflictDoUpdate({ target: settings.key, set: { value: current, updatedAt: now } });
  });
}

/** The recorded first start, else what the first migrating open would record now (first-start.ts). */
export async function firstStartOfPg(db: PgDb | PgTx['db'], now: number): Promise<number> {
  const recorded = Number(await readSettingPg(db, FIRST_STARTED_KEY));
  return Number.isFinite(recorded) && recorded > 0 ? recorded : (await earliestActivityPg(db)) ?? now;
}

/**
 * Written once, at the first migrating open; never changed after. Replicas opening one new
 * database together agree on the first writer's value (ON CONFLICT DO NOTHING).
 */
export function recordFirstStartPg(pool: Pool, now: number): Promise<number> {
  return inTransaction(pool, async (tx) => {
    const value = await firstStartOfPg(tx.db, now);
    await tx.db.insert(settings).values({ key: FIRST_STARTED_KEY, value: String(value), updatedAt: now }).onConflictDoNothing();
    return firstStartOfPg(tx.db, now);
  });
}

// A database that already holds rows started working with its first one (first-start.ts says why).
async function earliestActivityPg(db: PgDb | PgTx['db']): Promise<number | undefined> {
  const result = await db.execute<{ at: string | null }>(sql`SELECT min(at) AS at FROM (
    SELECT min(created_at) AS at FROM deliveries
    UNION ALL SELECT min(received_at) FROM inbox
    UNION ALL SELECT min(at) FROM audit_events) AS firsts`);
  const at = result.rows[0]?.at;
  return at === null || at === undefined ? undefined : Number(at);
}

const MRN_HASH_KEY = 'mrn_hash_key';

/** The per-database MRN hash key, created on first use (the first insert wins among replicas). */
export async function mrnHashKeyPg(pool: Pool): Promise<Buffer> {
  return inTransaction(pool, async (tx) => {
    await tx.db.insert(settings).values({ key: MRN_HASH_KEY, value: randomBytes(32).toString('base64'), updatedAt: Date.now() }).onConflictDoNothing();
    return Buffer.from((await readSettingPg(tx.db, MRN_HASH_KEY))!, 'base64');
  });
}
