import { afterEach, describe, expect, it } from 'vitest';
import type { SignedRef } from '../src/standins/avara-sandbox/sandbox-types.ts';
import { openPostgresStore } from '../src/store/pg/pg-store.ts';
import { startPrivatePostgres } from './support/private-postgres.ts';
import { runCli } from './support/run-cli.ts';
import { freePort, startServeChild } from './support/serve-child.ts';
import { startStandIns } from './support/start-stand-ins.ts';
import { fetchPdfLink, reportDeliveredBody, signWebhook } from './support/test-webhooks.ts';
import { sleep, waitFor } from './support/wait-for.ts';

// PostgreSQL stopped (as a crash, and as an orderly restart) and started again while signed
// webhooks keep arriving at serve. The contract: while it is down, webhooks answer 503 with
// Retry-After and never a 2xx; readyz says the database is unreachable; after the restart the
// refused webhooks, sent again as Avara does, are taken, and every report is delivered once.
// A PostgreSQL of this test's own: the shared server is never restarted.

const REPORTS = 40;
const SEND_GAP_MS = 100;

let cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  cleanups = [];
});

interface Sent { reportId: string; status: number; retryAfter: string | null; startedAt: number; endedAt: number }

describe('PostgreSQL restarted during intake', () => {
  // immediate: a crash (sessions dropped, recovery at start); fast: an orderly restart (sessions
  // told 57P01 and ended).
  it.each(['immediate', 'fast'] as const)('stopped -m %s: 503 + Retry-After while down, readyz says why, nothing half-stored, every report delivered once after', async (mode) => {
    const database = await startPrivatePostgres();
    cleanups.push(() => database.destroy());
    const port = await freePort();
    const standIns = await startStandIns({ dirPrefix: 'afs-pg-restart-', sandbox: { seed: 23, webhookUrl: `http://127.0.0.1:${port}/webhooks/avara` } });
    cleanups.push(() => standIns.stop());
    const serve = await startServeChild(standIns.serveEnv({
      PATH: process.env.PATH ?? '', DATABASE_URL: database.url, POLL_INTERVAL_SECONDS: '0',
      RETRY_BASE_SECONDS: '0.05', RETRY_MAX_SECONDS: '0.5', LEASE_SECONDS: '5', LOG_LEVEL: 'info',
    }), port);
    cleanups.push(() => serve.stop());

    const refs = await standIns.sandbox.signReports(REPORTS, { sendWebhooks: false });
    const bodies = new Map<string, string>();
    for (const ref of refs) bodies.set(ref.reportId, reportDeliveredBody(ref, await fetchPdfLink(standIns.sandbox, ref.reportId)));
    const post = async (ref: SignedRef): Promise<Sent> => {
      const body = bodies.get(ref.reportId)!;
      const startedAt = Date.now();
      const answer = await fetch(`${serve.url}/webhooks/avara`, {
        method: 'POST', body, headers: { 'content-type': 'application/json', ...signWebhook(standIns.sandbox.webhookKey, body, { id: ref.webhookId }) },
      });
      await answer.arrayBuffer();
      return { reportId: ref.reportId, status: answer.status, retryAfter: answer.headers.get('retry-after'), startedAt, endedAt: Date.now() };
    };

    // One webhook after another, as they come, whatever the database does meanwhile.
    const sent: Sent[] = [];
    const sending = (async () => {
      for (const ref of refs) {
        sent.push(await post(ref));
        await sleep(SEND_GAP_MS);
      }
    })();

    await waitFor('some webhooks taken while up', () => sent.filter((s) => s.status < 300).length >= 5, 30_000);
    await database.stop(mode);
    const downAt = Date.now();
    await waitFor('webhooks refused while down', () => sent.filter((s) => s.startedAt > downAt).length >= 4, 30_000);
    const readyz = await fetch(`${serve.url}/readyz`);
    const readiness = await readyz.json() as { status: string; database: { migrated: boolean; writable: string; error?: string } };
    // Down for a few seconds: the listener's reconnects (every second) fail a few times.
    await sleep(3000);
    const upAgainFrom = Date.now();
    await database.start();

    expect(readyz.status).toBe(503);
    expect(readiness.status).toBe('not_ready');
    expect(readiness.database.writable).toBe('unreachable');
    expect(readiness.database.error).toMatch(/^(ECONNREFUSED|ECONNRESET|57P0\d|connection_lost)$/);
    expect(JSON.stringify(readiness)).not.toContain('postgres://');

    await sending;
    const whileDown = sent.filter((s) => s.startedAt > downAt && s.endedAt < upAgainFrom);
    expect(whileDown.length).toBeGreaterThanOrEqual(4);
    expect(whileDown.filter((s) => s.status < 300)).toEqual([]);
    const refused = sent.filter((s) => s.status >= 300);
    for (const answer of refused) {
      expect(answer.status, JSON.stringify(answer)).toBe(503);
      expect(Number(answer.retryAfter)).toBeGreaterThan(0);
    }
    expect(sent.filter((s) => s.status < 300).length).toBeGreaterThan(0);

    const store = await openPostgresStore({ databaseUrl: database.url, migrate: false });
    cleanups.push(() => store.close());
    // Nothing half-stored: a webhook is in the inbox exactly when its delivery is queued.
    for (const answer of sent) {
      const delivery = await store.deliveries.get(answer.reportId);
      const received = (await store.audit.ofReport(answer.reportId)).some((e) => e.event === 'received');
      expect({ reportId: answer.reportId, delivery: delivery !== undefined, received }).toEqual({ reportId: answer.reportId, delivery: received, received });
      if (answer.status < 300) expect(delivery, `${answer.reportId} answered ${answer.status} but not stored`).toBeDefined();
    }

    // Avara sends the refused ones again until taken.
    for (const answer of refused) {
      const ref = refs.find((r) => r.reportId === answer.reportId)!;
      await waitFor(`${answer.reportId} taken on a resend`, async () => (await post(ref)).status < 300, 30_000);
    }

    await waitFor(`${REPORTS} reports delivered`, async () => (await store.deliveries.countByState()).delivered === REPORTS, 90_000);
    expect(serve.child.exitCode).toBeNull();
    expect(await store.intake.count()).toBe(REPORTS);
    for (const ref of refs) {
      const events = (await store.audit.ofReport(ref.reportId)).map((e) => e.event);
      expect(events.filter((event) => event === 'received'), ref.reportId).toHaveLength(1);
      expect(events.filter((event) => event === 'delivered'), ref.reportId).toHaveLength(1);
    }
    const bundle = await (await fetch(`${standIns.fhir.baseUrl}/DiagnosticReport?_count=1000`)).json() as { entry?: unknown[] };
    expect(bundle.entry ?? []).toHaveLength(REPORTS);
    const ready = await waitFor('readyz ready again', async () => (await fetch(`${serve.url}/readyz`)).status === 200, 30_000);
    expect(ready).toBe(true);
    // The replica listener said once that it lost its connection and once that it is back, not
    // once per reconnect attempt.
    const lines = (text: string) => serve.log.filter((line) => line.includes(text)).length;
    await waitFor('the listener back', () => lines('listening for other replicas\' work again') === 1, 30_000);
    expect(lines('not listening for other replicas\' work')).toBe(1);

    await serve.stop();
    expect((await serve.exited).code).toBe(0);
    const verify = await runCli(['audit', 'verify'], { DATABASE_URL: database.url });
    expect(verify.code, verify.stderr).toBe(0);
  }, 180_000);
});
