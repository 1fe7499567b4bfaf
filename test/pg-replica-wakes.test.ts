import { afterEach, describe, expect, it } from 'vitest';
import { openPostgresStore, type PostgresStore } from '../src/store/pg/pg-store.ts';
import { createTestDatabase } from './support/pg-test-database.ts';
import { runCli } from './support/run-cli.ts';
import { freePort, SERVE_ENTRIES, startServeChild } from './support/serve-child.ts';
import { startStandIns } from './support/start-stand-ins.ts';
import { fetchPdfLink, reportDeliveredBody, signWebhook } from './support/test-webhooks.ts';
import { sleep, waitFor } from './support/wait-for.ts';
import { seedFhirOrders } from './support/seed-fhir-orders.ts';
import { MRN_SYSTEM } from './fixtures/order-fixtures.ts';

// LISTEN/NOTIFY wired into serve: replica A takes the webhooks but its delivery loops never claim
// (REPLICA_WORKER_CONCURRENCY=0); replica B never takes a webhook and its idle loops look by
// themselves only every 10 minutes (REPLICA_IDLE_POLL_SECONDS, LEASE_SECONDS). Nothing but the
// notification of A's commit can make B look within the test: each report B delivers proves the
// wake crossed from one process to the other.

let cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  cleanups = [];
});

describe('serve replicas on PostgreSQL wake each other', () => {
  it('a webhook stored by replica A is delivered by replica B, whose only way to look is the notification', async () => {
    const database = await createTestDatabase();
    cleanups.push(() => database.drop());
    const [portA, portB] = [await freePort(), await freePort()];
    const standIns = await startStandIns({ dirPrefix: 'afs-pg-wakes-', sandbox: { seed: 19, webhookUrl: `http://127.0.0.1:${portA}/webhooks/avara` } });
    cleanups.push(() => standIns.stop());
    const env = (extra: Record<string, string>) => standIns.serveEnv({
      PATH: process.env.PATH ?? '', DATABASE_URL: database.url, POLL_INTERVAL_SECONDS: '0', LOG_LEVEL: 'info', ...extra,
    });
    const a = await startServeChild(env({ REPLICA_WORKER_CONCURRENCY: '0' }), portA, SERVE_ENTRIES.replica);
    cleanups.push(() => a.stop());
    const b = await startServeChild(env({ REPLICA_IDLE_POLL_SECONDS: '600', LEASE_SECONDS: '600' }), portB, SERVE_ENTRIES.replica);
    cleanups.push(() => b.stop());
    const store: PostgresStore = await openPostgresStore({ databaseUrl: database.url, migrate: false });
    cleanups.push(() => store.close());

    // One at a time: each later report arrives while B's loop is certainly asleep.
    const reportIds: string[] = [];
    for (let i = 0; i < 3; i++) {
      const [signed] = await standIns.sandbox.signReports(1, { sendWebhooks: false });
      const body = reportDeliveredBody(signed!, await fetchPdfLink(standIns.sandbox, signed!.reportId));
      const answer = await fetch(`${a.url}/webhooks/avara`, {
        method: 'POST', body, headers: { 'content-type': 'application/json', ...signWebhook(standIns.sandbox.webhookKey, body, { id: signed!.webhookId }) },
      });
      expect(answer.status).toBeLessThan(300);
      await waitFor(`report ${i + 1} delivered by B`, async () => (await store.deliveries.get(signed!.reportId))?.state === 'delivered', 45_000);
      reportIds.push(signed!.reportId);
    }

    const deliveredBy = (lines: string[]) => lines.filter((line) => line.includes('"outcome":"delivered"')).length;
    // The outcome's line is written after its commit: wait for it rather than read at once.
    await waitFor('B\'s three delivered lines', () => deliveredBy(b.log) === 3, 30_000);
    expect(deliveredBy(a.log)).toBe(0);
    for (const reportId of reportIds) {
      const events = (await store.audit.ofReport(reportId)).map((e) => e.event);
      expect(events.filter((event) => event === 'attempt_started')).toHaveLength(1);
    }
    const bundle = await (await fetch(`${standIns.fhir.baseUrl}/DiagnosticReport?_count=100`)).json() as { entry?: unknown[] };
    expect(bundle.entry ?? []).toHaveLength(3);
    await a.stop();
    await b.stop();
    expect([(await a.exited).code, (await b.exited).code]).toEqual([0, 0]);
    const verify = await runCli(['audit', 'verify'], { DATABASE_URL: database.url });
    expect(verify.code, verify.stderr).toBe(0);
  }, 180_000);

  it('an order change noted by replica A\'s sweep is synced by replica B\'s order worker, whose only way to look is the notification', async () => {
    const database = await createTestDatabase();
    cleanups.push(() => database.drop());
    const [portA, portB] = [await freePort(), await freePort()];
    const standIns = await startStandIns({ dirPrefix: 'afs-pg-order-wakes-', sandbox: { seed: 29 } });
    cleanups.push(() => standIns.stop());
    // Sweeps only at start and when asked (POST /webhooks/fhir), so the test decides who sweeps.
    const env = (extra: Record<string, string>) => standIns.serveEnv({
      PATH: process.env.PATH ?? '', DATABASE_URL: database.url, POLL_INTERVAL_SECONDS: '0', LOG_LEVEL: 'info',
      ORDERS_ENABLED: 'true', ORDERS_POLL_INTERVAL_SECONDS: '3600', MRN_SYSTEM, FHIR_WEBHOOK_SECRET: 'order-hook-secret', ...extra,
    });
    const a = await startServeChild(env({ REPLICA_ORDER_CONCURRENCY: '0' }), portA, SERVE_ENTRIES.replica);
    cleanups.push(() => a.stop());
    const b = await startServeChild(env({ REPLICA_IDLE_POLL_SECONDS: '600', LEASE_SECONDS: '600' }), portB, SERVE_ENTRIES.replica);
    cleanups.push(() => b.stop());
    const sweepsFinished = (lines: string[]) => lines.filter((line) => line.includes('order sweep finished')).length;
    // Both start-up sweeps over (one of them may find the other's lock held and not run).
    await waitFor('the start-up sweeps', () => sweepsFinished(a.log) + sweepsFinished(b.log) >= 1, 30_000);
    await sleep(1000);
    const store: PostgresStore = await openPostgresStore({ databaseUrl: database.url, migrate: false });
    cleanups.push(() => store.close());

    const [order] = await seedFhirOrders(standIns.fhir.baseUrl, [41]);
    const sweepsOfB = sweepsFinished(b.log);
    const asked = await fetch(`${a.url}/webhooks/fhir`, { method: 'POST', headers: { 'content-type': 'application/fhir+json', authorization: 'Bearer order-hook-secret' }, body: '{}' });
    expect(asked.status).toBe(202);
    await waitFor('the order synced by B', async () => (await store.orders.get(order!.imagingStudyId))?.state === 'synced', 45_000);
    // B did not sweep meanwhile: the change reached it only as A's notification.
    expect(sweepsFinished(b.log)).toBe(sweepsOfB);
    expect(standIns.sandbox.requestCounts()['POST /v1/autoScribe/studies']).toBe(1);
    const events = (await store.audit.ofOrder(order!.imagingStudyId)).map((e) => e.event);
    // One Avara study. A change noted while the attempt ran (a second sweep reading the order
    // again) queues it once more and that attempt syncs it again, changing nothing.
    expect(events.filter((event) => event === 'order_study_created'), events.join(', ')).toHaveLength(1);
    expect(events.at(-1), events.join(', ')).toBe('order_synced');
  }, 180_000);
});
