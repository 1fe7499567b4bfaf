import pg from 'pg';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startJobLoop, type AttemptEnd } from '../src/queue/run-job-loop.ts';
import { openPgStore, type PgStore } from '../src/store/pg/open-pg-store.ts';
import { pgDeliveryQueueOf, type DeliveryEndingPg } from '../src/store/pg/pg-deliveries.ts';
import { recordWebhookPg } from '../src/store/pg/pg-intake.ts';
import { pgJobQueue } from '../src/store/pg/pg-job-queue.ts';
import { listenForJobs, wakeOnCommit, type JobListener } from '../src/store/pg/pg-notify.ts';
import { noteOrderChangePg } from '../src/store/pg/pg-orders.ts';
import { inTransaction } from '../src/store/pg/pg-transaction.ts';
import { createTestDatabase, type TestDatabase } from './support/pg-test-database.ts';
import { waitFor } from './support/wait-for.ts';

// LISTEN/NOTIFY between replicas: work one replica stores wakes the others' loops.

/** How often an idle job loop looks for work by itself (IDLE_POLL_MS in run-job-loop.ts). */
const IDLE_LOOK_MS = 5_000;

describe('waking replicas with LISTEN/NOTIFY', () => {
  let database: TestDatabase;
  let a: PgStore;
  let b: PgStore;
  const listeners: JobListener[] = [];
  beforeAll(async () => {
    database = await createTestDatabase();
    a = await openPgStore({ databaseUrl: database.url });
    b = await openPgStore({ databaseUrl: database.url });
  });
  afterAll(async () => {
    await Promise.all(listeners.map((listener) => listener.close()));
    await a?.close();
    await b?.close();
    await database?.drop();
  });
  const listen = async (options: Parameters<typeof listenForJobs>[1] = {}) => {
    const listener = listenForJobs(database.url, options);
    listeners.push(listener);
    await listener.ready;
    return listener;
  };
  const webhook = (n: number) => ({ webhookId: `msg_${n}`, eventId: `evt_${n}`, type: 'report.delivered', bodySha256: 's', report: { reportId: `rep_${n}`, studyId: 'stu', isCritical: false, presignedUrl: 'https://x/p' } });

  it('a webhook stored on one replica wakes the target loops listening on another, each target by name; a duplicate wakes nobody', async () => {
    const listener = await listen();
    const woken: string[] = [];
    listener.on('deliveries.fhir', () => woken.push('fhir'));
    listener.on('deliveries.hl7v2', () => woken.push('hl7v2'));
    listener.on('orders', () => woken.push('orders'));
    await recordWebhookPg(a.pool, webhook(1), 1000, ['fhir', 'hl7v2']);
    await waitFor('both targets woken', () => woken.length >= 2, 10_000);
    expect(woken.sort()).toEqual(['fhir', 'hl7v2']);
    woken.length = 0;
    expect(await recordWebhookPg(a.pool, webhook(1), 1000, ['fhir', 'hl7v2'])).toBe('duplicate');
    await noteOrderChangePg(a.pool, { imagingStudyId: 'is-1', resource: 'ImagingStudy/is-1', version: '1', source: 'sweep' }, 1000);
    // NOTIFYs of one connection arrive in commit order: once the order's is here, the duplicate's would have been.
    await waitFor('the order woken', () => woken.includes('orders'), 10_000);
    expect(woken).toEqual(['orders']);
  });

  it('a rolled-back transaction wakes nobody (NOTIFY is delivered on commit only)', async () => {
    const listener = await listen();
    const woken: string[] = [];
    listener.on('deliveries.x', () => woken.push('x'));
    listener.on('deliveries.y', () => woken.push('y'));
    await inTransaction(a.pool, async (tx) => {
      wakeOnCommit(tx, 'deliveries.x');
      throw new Error('rolled back');
    }).catch(() => undefined);
    await inTransaction(a.pool, async (tx) => wakeOnCommit(tx, 'deliveries.y'));
    await waitFor('the committed wake', () => woken.includes('y'), 10_000);
    expect(woken).toEqual(['y']);
  });

  it('a loop asleep on replica B picks up a webhook replica A stored, woken by the notification', async () => {
    const listener = await listen();
    const claimed: { reportId: string; at: number }[] = [];
    const queue = pgJobQueue(b, pgDeliveryQueueOf('fhir'));
    // The loop asks for the next due time last before it sleeps: once answered, it is asleep (a
    // wake arriving while it still looks is remembered: test/run-job-loop-wake.test.ts).
    let looked = 0;
    const loop = startJobLoop({
      queue: { ...queue, nextDueAt: async () => Promise.resolve(queue.nextDueAt()).finally(() => (looked += 1)) },
      noun: 'test job',
      logFields: (lease) => ({ reportId: lease.reportId }),
      attempt: async ({ lease }): Promise<AttemptEnd<DeliveryEndingPg>> => {
        claimed.push({ reportId: lease.reportId, at: Date.now() });
        return { kind: 'done', outcome: 'skipped', ending: { kind: 'skipped', code: 'study_cancelled', message: 'test' } };
      },
    }, { log: pino({ level: 'silent' }), settings: { concurrency: 1, leaseMs: 60_000, maxAttempts: 3, retryBaseMs: 10, retryMaxMs: 20, shutdownGraceMs: 100 }, now: Date.now });
    const wakes: number[] = [];
    listener.on('deliveries.fhir', () => {
      wakes.push(Date.now());
      loop.wake();
    });
    try {
      await waitFor('the loop asleep', () => looked > 0, 10_000);
      const storedAt = Date.now();
      await recordWebhookPg(a.pool, webhook(7), storedAt, ['fhir']);
      const claim = await waitFor('replica B claimed the report', () => claimed.find((c) => c.reportId === 'rep_7'), 10_000);
      expect(wakes.length).toBeGreaterThan(0);
      // Not the loop's own idle look (every 5 s, run-job-loop.ts): the wake brought it.
      expect(claim.at - storedAt).toBeLessThan(IDLE_LOOK_MS);
    } finally {
      await loop.stop();
    }
  });

  it('after its connection is lost the listener reconnects and wakes every subscriber once (notifications meanwhile are gone)', async () => {
    const errors: Error[] = [];
    const listener = await listen({ reconnectMs: 50, onError: (error) => errors.push(error) });
    const woken: string[] = [];
    listener.on('deliveries.fhir', () => woken.push('fhir'));
    listener.on('orders', () => woken.push('orders'));
    const admin = new pg.Client({ connectionString: database.url });
    await admin.connect();
    await admin.query(`select pg_terminate_backend(pid) from pg_stat_activity where datname = $1 and application_name = 'avara-fhir-sync listener'`, [database.name]);
    await admin.end();
    await waitFor('every subscriber woken after the reconnect', () => woken.length >= 2, 10_000);
    expect(woken.sort()).toEqual(['fhir', 'orders']);
    expect(errors.length).toBeGreaterThan(0);
    woken.length = 0;
    // Listening again: a new notification arrives.
    await inTransaction(a.pool, async (tx) => wakeOnCommit(tx, 'orders'));
    await waitFor('a notification after the reconnect', () => woken.includes('orders'), 10_000);
  });
});
