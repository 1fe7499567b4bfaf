import { and, desc, eq, inArray, isNotNull, lt } from 'drizzle-orm';
import { withoutPassword } from '../database-url.ts';
import { FIRST_TARGET, RETRYABLE_STATES, type DeliveryQueue, type OrderQueue, type Store } from '../store.ts';
import { appendAuditEventPg, countAuditEventsPg, listAuditEventsPg, readAuditChainEndPg, verifyAuditChainPg } from './pg-audit.ts';
import { enqueueDeliveryPg, pgDeliveryQueueOf } from './pg-deliveries.ts';
import { createPgGroupCommit } from './pg-group-commit.ts';
import { createPgIntakeBatcher } from './pg-intake-batch.ts';
import { errorCode, probePgHealth } from './pg-health.ts';
import { recordWebhookPg } from './pg-intake.ts';
import { pgJobQueue } from './pg-job-queue.ts';
import { extendLocksPg, tryAcquireLocksPg } from './pg-locks.ts';
import { noteOrderChangePg, PG_ORDER_QUEUE } from './pg-orders.ts';
import {
  countAll, countAuditRowsPg, countDeliveriesByStatePg, countDeliveriesByTargetPg, countOrdersByStatePg, iterateAuditEventsPg, lastDeliveredAtPg,
  listDeliveriesPg, listDeliveryGroupsPg, listOrderEventsPg, oldestWaitingCreatedAtPg, ordersReadingPg, readAuditHashPg, recentOrderErrorsPg, summarizeDeliveriesPg,
} from './pg-store-reads.ts';
import {
  checkIdentifierSystemsPg, firstStartOfPg, getPolledStudyPg, mrnHashKeyPg, readSettingPg, reconcileStudyPg, recordFirstStartPg, requeueDeadPg, requeueFromPg,
  requeueOrdersPg, writeSettingPg,
} from './pg-store-writes.ts';
import { deliveriesWakeName, listenForJobs, ORDERS_WAKE_NAME } from './pg-notify.ts';
import { inTransaction } from './pg-transaction.ts';
import { openPgStore, type PgStore } from './open-pg-store.ts';
import { deliveries, inbox, locks, orders, polledStudies } from './schema.ts';

export { withoutPassword };

/** As SQLite's open names SQLITE_PATH: the variable, where (no password) and the server's code. */
function cannotOpen(where: string, error: unknown): Error {
  const { code, message } = error as { code?: string; message?: string };
  const why = code && !String(message).startsWith(code) ? `${code}: ${message}` : String(message ?? error);
  return Object.assign(new Error(`DATABASE_URL: cannot open the database at ${where} (${why})`, { cause: error }), code ? { code } : {});
}

/** The PostgreSQL store, with its connection for tests of PostgreSQL specifics (never for consumers). */
export interface PostgresStore extends Store {
  readonly connection: PgStore;
}

export interface PostgresStoreSettings {
  databaseUrl: string;
  /** false: open without applying migrations (doctor, and the delivery thread: serve migrated). */
  migrate?: boolean;
  poolSize?: number;
}

/**
 * The Store on PostgreSQL, for any number of replicas on one database: every method one
 * transaction (pg-transaction.ts), every write to a leased job fenced on its token
 * (pg-leased-jobs.ts), the audit chain appended under its advisory lock at COMMIT (pg-audit.ts),
 * webhooks that arrive together committed together (pg-group-commit.ts). The first migrating
 * open records first_started_at, once, as SQLite's does.
 */
export async function openPostgresStore(settings: PostgresStoreSettings): Promise<PostgresStore> {
  const where = withoutPassword(settings.databaseUrl);
  const connection = await openPgStore({ databaseUrl: settings.databaseUrl, migrate: settings.migrate ?? true, ...(settings.poolSize ? { poolSize: settings.poolSize } : {}) })
    .catch((error: unknown) => {
      throw cannotOpen(where, error);
    });
  const { pool, db } = connection;
  try {
    if (settings.migrate !== false) await recordFirstStartPg(pool, Date.now());
    // Without migrating nothing has connected yet: a server that is not there fails the open, as
    // a missing SQLite file does, instead of every later call.
    else await pool.query('SELECT 1');
  } catch (error) {
    await connection.close();
    throw cannotOpen(where, error);
  }
  const groupCommit = createPgGroupCommit(pool);
  const intakeBatches = createPgIntakeBatcher(pool, (event, now, targets) => groupCommit.run(() => recordWebhookPg(pool, event, now, targets), event.webhookId));
  const deliveryQueues = new Map<string, DeliveryQueue>();
  let orderQueue: OrderQueue | undefined;
  let mrnKey: Promise<Buffer> | undefined;
  return {
    connection,
    location: withoutPassword(settings.databaseUrl),
    intake: {
      recordWebhook: (event, now, targets) => intakeBatches.record(event, now, targets),
      async findPdfLink(reportId) {
        const [row] = await db.select({ url: inbox.presignedUrl, receivedAt: inbox.receivedAt }).from(inbox)
          .where(and(eq(inbox.reportId, reportId), isNotNull(inbox.presignedUrl))).orderBy(desc(inbox.receivedAt)).limit(1);
        return row?.url ? { url: row.url, receivedAt: row.receivedAt } : undefined;
      },
      prune: (now, keepMs) => inTransaction(pool, async (tx) => (await tx.db.delete(inbox).where(lt(inbox.receivedAt, now - keepMs)).returning({ id: inbox.webhookId })).length),
      count: async () => (await db.select({ n: countAll() }).from(inbox))[0]?.n ?? 0,
    },
    deliveries: {
      get: async (reportId, target = FIRST_TARGET) => (await db.select().from(deliveries).where(and(eq(deliveries.reportId, reportId), eq(deliveries.target, target))))[0],
      ofReport: (reportId) => db.select().from(deliveries).where(eq(deliveries.reportId, reportId)),
      list: (filter) => listDeliveriesPg(db, filter),
      listGroups: (filter) => listDeliveryGroupsPg(db, filter),
      enqueue: (input, now) => inTransaction(pool, (tx) => enqueueDeliveryPg(tx, input, now)),
      countByState: (target) => countDeliveriesByStatePg(db, target),
      countByTarget: (targets) => countDeliveriesByTargetPg(db, targets),
      oldestWaitingCreatedAt: () => oldestWaitingCreatedAtPg(db),
      lastDeliveredAt: () => lastDeliveredAtPg(db),
      summarize: (now) => summarizeDeliveriesPg(db, now),
      requeue: (reportId, now, action, target) => requeueFromPg(pool, reportId, target, RETRYABLE_STATES, 'retried', now, action),
      replay: (reportId, now, action, target) => requeueFromPg(pool, reportId, target, ['delivered'], 'replayed', now, action),
      requeueDead: (now, action) => requeueDeadPg(pool, now, action),
      deliveredRowsOfStudy: (studyId, target) => db
        .select({ reportId: deliveries.reportId, fhirRefs: deliveries.fhirRefs, contentHash: deliveries.contentHash, hl7ControlId: deliveries.hl7ControlId, state: deliveries.state })
        .from(deliveries).where(and(eq(deliveries.studyId, studyId), eq(deliveries.target, target), isNotNull(deliveries.deliveredAt))),
      isStudyDelivered: async (studyId, target) => (await db.select({ id: deliveries.id }).from(deliveries)
        .where(and(eq(deliveries.studyId, studyId), eq(deliveries.target, target), eq(deliveries.state, 'delivered'))).limit(1)).length > 0,
      pendingOfStudy: (studyId, target) => db.select({ reportId: deliveries.reportId }).from(deliveries)
        .where(and(eq(deliveries.studyId, studyId), eq(deliveries.target, target), inArray(deliveries.state, ['queued', 'in_progress', 'failed']))),
    },
    audit: {
      append: (event) => inTransaction(pool, async (tx) => appendAuditEventPg(tx, event)),
      ofReport: (reportId) => listAuditEventsPg(db, reportId),
      ofOrder: (imagingStudyId) => listOrderEventsPg(db, imagingStudyId),
      count: (reportId, event) => countAuditEventsPg(db, reportId, event),
      verify: (expect) => verifyAuditChainPg(db, expect),
      chainEnd: () => readAuditChainEndPg(db),
      hashAt: (seq) => readAuditHashPg(db, seq),
      countRows: (afterSeq, throughSeq) => countAuditRowsPg(db, afterSeq, throughSeq),
      iterate: (sinceMs) => iterateAuditEventsPg(db, sinceMs),
    },
    orders: {
      get: async (imagingStudyId) => (await db.select().from(orders).where(eq(orders.imagingStudyId, imagingStudyId)))[0],
      noteChange: (change, now) => noteOrderChangePg(pool, change, now),
      reading: (reference) => ordersReadingPg(db, reference),
      countByState: () => countOrdersByStatePg(db),
      recentErrors: (limit) => recentOrderErrorsPg(db, limit),
      requeue: (now, action, imagingStudyId) => requeueOrdersPg(pool, now, action, imagingStudyId),
    },
    polledStudies: {
      get: (studyId) => getPolledStudyPg(db, studyId),
      reconcile: (sighting, source, now, targets) => reconcileStudyPg(pool, sighting, source, now, targets),
      count: async () => (await db.select({ n: countAll() }).from(polledStudies))[0]?.n ?? 0,
      countCancelledAfterDelivery: async () => (await db.select({ n: countAll() }).from(polledStudies).where(eq(polledStudies.cancelledFlagged, true)))[0]?.n ?? 0,
    },
    settings: {
      read: (key) => readSettingPg(db, key),
      write: (key, value, now) => writeSettingPg(pool, key, value, now),
      checkIdentifierSystems: (systems, acceptChange, now) => checkIdentifierSystemsPg(pool, systems, acceptChange, now),
      firstStart: (now) => firstStartOfPg(db, now),
      mrnHashKey: () => (mrnKey ??= mrnHashKeyPg(pool).catch((error: unknown) => {
        mrnKey = undefined;
        throw error;
      })),
    },
    locks: {
      tryAcquire: (keys, holder, expiresAt, now) => tryAcquireLocksPg(pool, keys, holder, expiresAt, now),
      extend: (holder, expiresAt) => inTransaction(pool, (tx) => extendLocksPg(tx, holder, expiresAt)),
      release: (holder) => inTransaction(pool, async (tx) => void (await tx.db.delete(locks).where(eq(locks.holder, holder)))),
      read: async (key) => (await db.select({ holder: locks.holder, expiresAt: locks.expiresAt }).from(locks).where(eq(locks.key, key)))[0],
      // Of two replicas taking over one dead holder's lock at once, the second finds it moved.
      takeOver: (key, from, to, expiresAt) => inTransaction(pool, async (tx) =>
        (await tx.db.update(locks).set({ holder: to, expiresAt }).where(and(eq(locks.key, key), eq(locks.holder, from))).returning({ key: locks.key })).length === 1),
    },
    deliveryQueue(target) {
      let queue = deliveryQueues.get(target);
      if (!queue) deliveryQueues.set(target, (queue = pgJobQueue(connection, pgDeliveryQueueOf(target))));
      return queue;
    },
    orderQueue: () => (orderQueue ??= pgJobQueue(connection, PG_ORDER_QUEUE)),
    async health() {
      const { migrated, writable, error } = await probePgHealth(connection);
      // Not migrated is not probed for writes: to a consumer that is not writable.
      return { migrated, writable: writable === 'unknown' ? 'not_writable' : writable, ...(error ? { error } : {}) };
    },
    listenForWork(options = {}) {
      const listener = listenForJobs(settings.databaseUrl, {
        ...(options.reconnectMs !== undefined ? { reconnectMs: options.reconnectMs } : {}),
        onError: (error) => options.onLost?.(errorCode(error)),
        ...(options.onReconnected ? { onReconnected: options.onReconnected } : {}),
      });
      return {
        onDeliveries: (target, wake) => void listener.on(deliveriesWakeName(target), wake),
        onOrders: (wake) => void listener.on(ORDERS_WAKE_NAME, wake),
        ready: listener.ready,
        close: () => listener.close(),
      };
    },
    close: () => connection.close(),
  };
}
