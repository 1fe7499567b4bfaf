import { afterEach, describe, expect, it } from 'vitest';
import type { SignedRef } from '../src/standins/avara-sandbox/sandbox-types.ts';
import { openPostgresStore } from '../src/store/pg/pg-store.ts';
import { startPrivatePostgres } from './support/private-postgres.ts';
import { freePort, startServeChild } from './support/serve-child.ts';
import { startStandIns } from './support/start-stand-ins.ts';
import { fetchPdfLink, reportDeliveredBody, signWebhook } from './support/test-webhooks.ts';
import { waitFor } from './support/wait-for.ts';

// A PostgreSQL that takes connections and never answers (frozen with SIGSTOP: what a network
// partition or a hung server looks like) must not hold webhooks until the sender gives up: serve
// answers 503 + Retry-After after its store deadline (10 s), readyz says unreachable (timeout),
// and once the server answers again the resent webhook is taken and delivered once.

let cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  cleanups = [];
});

describe('PostgreSQL frozen during intake', () => {
  it('503 + Retry-After after the store deadline, not a hung request; taken and delivered once after', async () => {
    const database = await startPrivatePostgres();
    cleanups.push(() => database.destroy());
    const port = await freePort();
    const standIns = await startStandIns({ dirPrefix: 'afs-pg-frozen-', sandbox: { seed: 31, webhookUrl: `http://127.0.0.1:${port}/webhooks/avara` } });
    cleanups.push(() => standIns.stop());
    const serve = await startServeChild(standIns.serveEnv({
      PATH: process.env.PATH ?? '', DATABASE_URL: database.url, POLL_INTERVAL_SECONDS: '0', LEASE_SECONDS: '5', LOG_LEVEL: 'info',
    }), port);
    cleanups.push(() => serve.stop());
    const refs = await standIns.sandbox.signReports(2, { sendWebhooks: false });
    const post = async (ref: SignedRef) => {
      const body = reportDeliveredBody(ref, await fetchPdfLink(standIns.sandbox, ref.reportId));
      return fetch(`${serve.url}/webhooks/avara`, {
        method: 'POST', body, headers: { 'content-type': 'application/json', ...signWebhook(standIns.sandbox.webhookKey, body, { id: ref.webhookId }) },
        // Well past the store deadline: a request still open by then is the hang this test is about.
        signal: AbortSignal.timeout(60_000),
      });
    };
    expect((await post(refs[0]!)).status).toBe(200);

    database.freeze();
    cleanups.push(async () => database.thaw());
    let refused: Response;
    let readiness: { database: { writable: string; error?: string } };
    try {
      [refused, readiness] = await Promise.all([
        post(refs[1]!),
        fetch(`${serve.url}/readyz`, { signal: AbortSignal.timeout(60_000) }).then(async (response) => {
          expect(response.status).toBe(503);
          return response.json() as Promise<{ database: { writable: string; error?: string } }>;
        }),
      ]);
    } finally {
      database.thaw();
    }
    expect(refused.status).toBe(503);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(readiness.database).toMatchObject({ writable: 'unreachable', error: 'timeout' });

    // Avara sends it again: taken (stored now, or found stored by the write that was held).
    await waitFor('the resent webhook taken', async () => (await post(refs[1]!)).status === 200, 60_000);
    const store = await openPostgresStore({ databaseUrl: database.url, migrate: false });
    cleanups.push(() => store.close());
    await waitFor('both reports delivered', async () => (await store.deliveries.countByState()).delivered === 2, 60_000);
    for (const ref of refs) {
      const events = (await store.audit.ofReport(ref.reportId)).map((e) => e.event);
      expect(events.filter((event) => event === 'received'), ref.reportId).toHaveLength(1);
      expect(events.filter((event) => event === 'delivered'), ref.reportId).toHaveLength(1);
    }
    const bundle = await (await fetch(`${standIns.fhir.baseUrl}/DiagnosticReport?_count=100`)).json() as { entry?: unknown[] };
    expect(bundle.entry ?? []).toHaveLength(2);
    expect(serve.child.exitCode).toBeNull();
  }, 180_000);
});
