import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPgStore, type PgStore } from '../src/store/pg/open-pg-store.ts';
import { verifyAuditChainPg } from '../src/store/pg/pg-audit.ts';
import { pgDeliveryQueueOf } from '../src/store/pg/pg-deliveries.ts';
import { recordWebhookPg } from '../src/store/pg/pg-intake.ts';
import { pgJobQueue } from '../src/store/pg/pg-job-queue.ts';
import { inTransaction } from '../src/store/pg/pg-transaction.ts';
import { createTestDatabase, type TestDatabase } from './support/pg-test-database.ts';
import { waitFor } from './support/wait-for.ts';

// The server ends our connections (a restart, a failover, an operator): what was not committed
// is refused with an error, nothing half-stored, and the pool carries on with new connections.

describe('PostgreSQL connections lost under the store', () => {
  let database: TestDatabase;
  let store: PgStore;
  const idleErrors: Error[] = [];
  beforeAll(async () => {
    database = await createTestDatabase();
    store = await openPgStore({ databaseUrl: database.url, poolSize: 4, onIdleError: (error) => idleErrors.push(error) });
  });
  afterAll(async () => {
    await store?.close();
    await database?.drop();
  });
  const terminateOurConnections = async () => {
    const admin = new pg.Client({ connectionString: database.url });
    await admin.connect();
    await admin.query(`select pg_terminate_backend(pid) from pg_stat_activity where datname = $1 and application_name = 'avara-fhir-sync'`, [database.name]);
    await admin.end();
  };
  const webhook = (n: number) => ({ webhookId: `msg_${n}`, eventId: `evt_${n}`, type: 'report.delivered', bodySha256: 's', report: { reportId: `rep_${n}`, studyId: 'stu', isCritical: false, presignedUrl: 'https://x/p' } });

  it('idle connections killed: reported to onIdleError, not a crash; the next writes run on new connections', async () => {
    // Warm the pool with a few idle connections.
    await Promise.all([1, 2, 3].map(() => store.pool.query('select 1')));
    await terminateOurConnections();
    await waitFor('the pool told about its idle connections', () => idleErrors.length > 0, 10_000);
    expect(await recordWebhookPg(store.pool, webhook(1), 1000, ['fhir'])).toBe('stored');
    expect(await pgJobQueue(store, pgDeliveryQueueOf('fhir')).claim(1000, 60_000)).toMatchObject({ reportId: 'rep_1' });
  });

  it('a connection killed inside a transaction: the write is refused, nothing of it stored, and the store goes on', async () => {
    const attempt = inTransaction(store.pool, async (tx) => {
      await recordWebhookPg(store.pool, webhook(2), 2000, ['fhir']);
      await terminateOurConnections();
      await tx.client.query('select 1');
    });
    await expect(attempt).rejects.toThrow(/terminat|Connection/i);
    const { rows } = await store.pool.query(`select count(*)::int as n from inbox where webhook_id = 'msg_2'`);
    expect(rows[0]).toEqual({ n: 0 });
    expect(await recordWebhookPg(store.pool, webhook(2), 3000, ['fhir'])).toBe('stored');
    expect((await verifyAuditChainPg(store.db)).ok).toBe(true);
  });
});
