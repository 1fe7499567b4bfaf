import { asc, eq } from 'drizzle-orm';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { listAuditEvents, verifyAuditChain } from '../src/store/audit.ts';
import { deliveryQueueOf, enqueueDelivery, getDelivery } from '../src/store/deliveries.ts';
import { openSqlite, type SqliteConnection } from '../src/store/open-store.ts';
import { openPgStore } from '../src/store/pg/open-pg-store.ts';
import { verifyAuditChainPg } from '../src/store/pg/pg-audit.ts';
import { enqueueDeliveryPg, pgDeliveryQueueOf } from '../src/store/pg/pg-deliveries.ts';
import { pgJobQueue } from '../src/store/pg/pg-job-queue.ts';
import { inTransaction } from '../src/store/pg/pg-transaction.ts';
import * as pg from '../src/store/pg/schema.ts';
import { locks } from '../src/store/schema.ts';
import { sqliteJobQueue } from '../src/store/sqlite-job-queue.ts';
import { jobQueueContract } from './support/job-queue-contract.ts';
import { createTestDatabase, emptyTestDatabase } from './support/pg-test-database.ts';

// The queue's behaviour suite, once per store (test/support/job-queue-contract.ts).

jobQueueContract('SQLite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'afs-contract-'));
  let store: SqliteConnection | undefined;
  let n = 0;
  const db = () => store!.db;
  return {
    queue: (target) => sqliteJobQueue(db(), deliveryQueueOf(target)),
    enqueue: async (reportId, now, target = 'fhir') => void enqueueDelivery(db(), { reportId, studyId: 'stu_1', source: 'webhook', targets: [target] }, now),
    delivery: async (reportId, target = 'fhir') => getDelivery(db(), reportId, target),
    events: async (reportId) => listAuditEvents(db(), reportId).map((event) => event.event),
    locks: async () => db().select({ key: locks.key, holder: locks.holder }).from(locks).all(),
    verify: async () => verifyAuditChain(db()),
    reset: async () => {
      store?.close();
      store = openSqlite({ sqlitePath: join(dir, `state-${(n += 1)}.db`) });
    },
    close: async () => {
      store?.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

jobQueueContract('PostgreSQL', async () => {
  const database = await createTestDatabase();
  const store = await openPgStore({ databaseUrl: database.url });
  return {
    queue: (target) => pgJobQueue(store, pgDeliveryQueueOf(target)),
    enqueue: async (reportId, now, target = 'fhir') => void await inTransaction(store.pool, (tx) => enqueueDeliveryPg(tx, { reportId, studyId: 'stu_1', source: 'webhook', targets: [target] }, now)),
    delivery: async (reportId, target = 'fhir') => (await store.db.select().from(pg.deliveries).where(eq(pg.deliveries.id, `${target}:${reportId}`)))[0],
    events: async (reportId) => (await store.db.select({ event: pg.auditEvents.event }).from(pg.auditEvents).where(eq(pg.auditEvents.reportId, reportId)).orderBy(asc(pg.auditEvents.seq))).map((row) => row.event),
    locks: async () => store.db.select({ key: pg.locks.key, holder: pg.locks.holder }).from(pg.locks),
    verify: () => verifyAuditChainPg(store.db),
    reset: () => emptyTestDatabase(database.url),
    close: async () => {
      await store.close();
      await database.drop();
    },
  };
});
