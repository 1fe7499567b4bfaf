import { appendAuditEvent, countAuditEvents, countAuditRows, listAuditEvents, readAuditChainEnd, readAuditHash, verifyAuditChain } from '../audit.ts';
import { firstStartOf } from '../first-start.ts';
import { listDeliveryGroups } from '../list-delivery-groups.ts';
import { mrnHashKey } from '../mrn-hash.ts';
import {
  countDeliveriesByState, countDeliveriesByTarget, deliveredRowsOfStudy, deliveryQueueOf, enqueueDelivery, getDeliveriesOfReport, getDelivery,
  isStudyDelivered, pendingDeliveriesOfStudy, replayDelivery, requeueDelivery,
} from '../deliveries.ts';
import { lastDeliveredAt, oldestWaitingCreatedAt, summarizeDeliveries } from '../delivery-summary.ts';
import { createGroupCommit } from '../group-commit.ts';
import { checkIdentifierSystems } from '../identifier-systems-guard.ts';
import { countInbox, findWebhookPdfLink, pruneInbox, recordWebhook } from '../inbox.ts';
import { iterateAuditEvents } from '../iterate-audit-events.ts';
import { listDeliveries } from '../list-deliveries.ts';
import { extendLocks, readLock, releaseLocks, takeOverLock, tryAcquireLocks } from '../locks.ts';
import { isMigrated, openSqlite, type SqliteConnection } from '../open-store.ts';
import { countOrdersByState, listOrderEvents, recentOrderErrors, requeueOrders } from '../order-status.ts';
import { getOrder, noteOrderChange, ORDER_QUEUE, ordersReading } from '../orders.ts';
import { countPolledStudies, countStudiesCancelledAfterDelivery, getPolledStudy, reconcileStudy } from '../polled-studies.ts';
import { probeWritable } from '../probe-writable.ts';
import { requeueDeadDeliveries } from '../requeue-dead.ts';
import { readSetting, writeSetting } from '../settings-values.ts';
import { sqliteJobQueue } from '../sqlite-job-queue.ts';
import { FIRST_TARGET, type DeliveryQueue, type OrderQueue, type Store } from '../store.ts';

/** The SQLite store, with its connection for the tests of SQLite specifics (never for consumers). */
export interface SqliteStore extends Store {
  readonly connection: SqliteConnection;
}

/**
 * The embedded store: one file, one process. better-sqlite3 answers synchronously; every method
 * runs its transaction at once and returns it as a promise, so nothing happens between a
 * method's reads and writes. Webhooks share commits (group commit); claims, lock takes and
 * stateless steps skip their fsync (sqlite-job-queue.ts).
 */
export function openSqliteStore(settings: { sqlitePath: string; migrate?: boolean }): SqliteStore {
  const connection = openSqlite(settings);
  const { db } = connection;
  const groupCommit = createGroupCommit(db);
  const deliveryQueues = new Map<string, DeliveryQueue>();
  let orderQueue: OrderQueue | undefined;
  return {
    connection,
    location: settings.sqlitePath,
    intake: {
      recordWebhook: (event, now, targets) => groupCommit.run(() => recordWebhook(db, event, now, targets)),
      findPdfLink: async (reportId) => findWebhookPdfLink(db, reportId),
      prune: async (now, keepMs) => pruneInbox(db, now, keepMs),
      count: async () => countInbox(db),
    },
    deliveries: {
      get: async (reportId, target = FIRST_TARGET) => getDelivery(db, reportId, target),
      ofReport: async (reportId) => getDeliveriesOfReport(db, reportId),
      list: async (filter) => listDeliveries(db, filter),
      listGroups: async (filter) => listDeliveryGroups(db, filter),
      enqueue: async (input, now) => enqueueDelivery(db, input, now),
      countByState: async (target) => countDeliveriesByState(db, target),
      countByTarget: async (targets) => countDeliveriesByTarget(db, targets),
      oldestWaitingCreatedAt: async () => oldestWaitingCreatedAt(db),
      lastDeliveredAt: async () => lastDeliveredAt(db),
      summarize: async (now) => summarizeDeliveries(db, now),
      requeue: async (reportId, now, action, target) => requeueDelivery(db, reportId, now, action, target),
      replay: async (reportId, now, action, target) => replayDelivery(db, reportId, now, action, target),
      requeueDead: async (now, action) => requeueDeadDeliveries(db, now, action),
      deliveredRowsOfStudy: async (studyId, target) => deliveredRowsOfStudy(db, studyId, target),
      isStudyDelivered: async (studyId, target) => isStudyDelivered(db, studyId, target),
      pendingOfStudy: async (studyId, target) => pendingDeliveriesOfStudy(db, studyId, target),
    },
    audit: {
      append: async (event) => appendAuditEvent(db, event),
      ofReport: async (reportId) => listAuditEvents(db, reportId),
      ofOrder: async (imagingStudyId) => listOrderEvents(db, imagingStudyId),
      count: async (reportId, event) => countAuditEvents(db, reportId, event),
      verify: async (expect) => verifyAuditChain(db, expect),
      chainEnd: async () => readAuditChainEnd(db),
      hashAt: async (seq) => readAuditHash(db, seq),
      countRows: async (afterSeq, throughSeq) => countAuditRows(db, afterSeq, throughSeq),
      async* iterate(sinceMs) {
        yield* iterateAuditEvents(db, sinceMs);
      },
    },
    orders: {
      get: async (imagingStudyId) => getOrder(db, imagingStudyId),
      noteChange: async (change, now) => noteOrderChange(db, change, now),
      reading: async (reference) => ordersReading(db, reference),
      countByState: async () => countOrdersByState(db),
      recentErrors: async (limit) => recentOrderErrors(db, limit),
      requeue: async (now, action, imagingStudyId) => requeueOrders(db, now, action, imagingStudyId),
    },
    polledStudies: {
      get: async (studyId) => getPolledStudy(db, studyId),
      reconcile: async (sighting, source, now, targets, options) => reconcileStudy(db, sighting, source, now, targets, options?.revisit),
      count: async () => countPolledStudies(db),
      countCancelledAfterDelivery: async () => countStudiesCancelledAfterDelivery(db),
    },
    settings: {
      read: async (key) => readSetting(db, key),
      write: async (key, value, now) => writeSetting(db, key, value, now),
      checkIdentifierSystems: async (systems, acceptChange, now) => checkIdentifierSystems(db, systems, acceptChange, now),
      firstStart: async (now) => firstStartOf(db, now),
      mrnHashKey: async () => mrnHashKey(db),
    },
    locks: {
      tryAcquire: async (keys, holder, expiresAt, now) => tryAcquireLocks(db, keys, holder, expiresAt, now),
      extend: async (holder, expiresAt) => extendLocks(db, holder, expiresAt),
      release: async (holder) => releaseLocks(db, holder),
      read: async (key) => readLock(db, key),
      takeOver: async (key, from, to, expiresAt) => takeOverLock(db, key, from, to, expiresAt),
    },
    deliveryQueue(target) {
      let queue = deliveryQueues.get(target);
      if (!queue) deliveryQueues.set(target, (queue = sqliteJobQueue(db, deliveryQueueOf(target))));
      return queue;
    },
    orderQueue: () => (orderQueue ??= sqliteJobQueue(db, ORDER_QUEUE)),
    async health() {
      const migrated = connection.sqlite.open && isMigrated(connection);
      return { migrated, writable: probeWritable(connection) };
    },
    async close() {
      connection.close();
    },
  };
}
