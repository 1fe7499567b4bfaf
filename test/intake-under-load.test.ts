import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestEnv, type TestEnv } from './support/test-env.ts';
import { reportDeliveredBody } from './support/test-webhooks.ts';
import { failOnStall, HANG_GUARD_MS, STALL_MS } from './support/wait-for.ts';
import { sqliteOf } from './support/sqlite-of.ts';

const FORGER_KEY = 'whsec_aOIOjHX2f9EZlBx83v4B6sCOuq9thgxS';

/**
 * Runs `run` over `items`, `size` at a time. Bounded by progress, not by a total: it fails when
 * no call of a batch finished for STALL_MS, so a busy machine may take as long as it needs.
 */
async function inBatches<T, R>(items: T[], size: number, run: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = [];
  let finished = 0;
  const counted = async (item: T) => {
    const result = await run(item);
    finished++;
    return result;
  };
  for (let i = 0; i < items.length; i += size) {
    const batch = Promise.all(items.slice(i, i + size).map(counted));
    results.push(...(await failOnStall(`calls ${i + 1}-${i + size}`, batch, { stallMs: STALL_MS, progress: () => finished })));
  }
  return results;
}

describe('webhook intake under load and storage faults', () => {
  let env: TestEnv;
  afterEach(() => env.stop());

  it('stores each of 1,000 genuine webhooks once amid 10% exact duplicates and 5% forgeries, answering forgeries 401', async () => {
    // Deliveries are not under test here: a paused FHIR side keeps the worker from competing.
    env = await startTestEnv({ env: { WORKER_CONCURRENCY: '1', SHUTDOWN_GRACE_SECONDS: '0' } });
    await env.fhir.faults.down();
    const signed = await env.sandbox.signReports(1000, { sendWebhooks: false });
    const genuine = await inBatches(signed, 100, async (ref) => {
      const body = reportDeliveredBody(ref, await env.pdfLink(ref.reportId), `whe_${ref.reportId.slice(4)}`);
      return { body, headers: env.signedHeaders(body, { id: ref.webhookId }) };
    });
    const duplicates = genuine.filter((_, i) => i % 10 === 0);
    const forged = genuine.filter((_, i) => i % 20 === 7).map(({ body }) => {
      const tampered = body.replace('"isCritical":false', '"isCritical":true');
      return { body: tampered, headers: env.signedHeaders(tampered, { key: FORGER_KEY }) };
    });
    const requests = [...genuine.map((r) => ({ ...r, kind: 'genuine' })), ...duplicates.map((r) => ({ ...r, kind: 'duplicate' })), ...forged.map((r) => ({ ...r, kind: 'forged' }))]
      .sort(() => Math.random() - 0.5);
    const answers = await inBatches(requests, 100, async (r) => ({ kind: r.kind, status: (await env.postWebhook(r.body, r.headers)).status }));

    const statuses = (kind: string) => new Set(answers.filter((a) => a.kind === kind).map((a) => a.status));
    expect(statuses('genuine')).toEqual(new Set([200]));
    expect(statuses('duplicate')).toEqual(new Set([200]));
    expect(statuses('forged')).toEqual(new Set([401]));
    expect(answers).toHaveLength(1000 + 100 + 50);
    expect((await env.app.store.intake.count())).toBe(1000);
    const states = (await env.app.store.deliveries.countByState());
    expect(Object.values(states).reduce((a, b) => a + b, 0)).toBe(1000);
    expect(sqliteOf(env.app).sqlite.prepare('SELECT count(*) AS n FROM deliveries WHERE is_critical = 1').get()).toEqual({ n: 0 });
  }, HANG_GUARD_MS);

  it('answers 503 while another connection holds the write lock past the busy timeout, and delivers after it is released', async () => {
    env = await startTestEnv();
    const [signed] = await env.sandbox.signReports(1, { sendWebhooks: false });
    const blocker = new Database(sqliteOf(env.app).path);
    blocker.prepare('BEGIN IMMEDIATE').run();
    try {
      const response = await env.sendReportDelivered(signed!);
      expect(response.status).toBe(503);
      expect(response.headers.get('retry-after')).toMatch(/^\d+$/);
    } finally {
      blocker.prepare('ROLLBACK').run();
      blocker.close();
    }
    expect((await env.app.store.intake.count())).toBe(0);
    const retried = await env.sendReportDelivered(signed!);
    expect(retried.status).toBe(200);
    await env.waitForDelivery(signed!.reportId, 'delivered');
  });

  it('answers 503 while the database is read-only, stores nothing half, and delivers once writable again', async () => {
    env = await startTestEnv();
    const [signed] = await env.sandbox.signReports(1, { sendWebhooks: false });
    sqliteOf(env.app).sqlite.pragma('query_only = ON');
    const refused = await env.sendReportDelivered(signed!);
    sqliteOf(env.app).sqlite.pragma('query_only = OFF');
    expect(refused.status).toBe(503);
    expect((await env.app.store.intake.count())).toBe(0);
    expect(Object.values((await env.app.store.deliveries.countByState())).reduce((a, b) => a + b, 0)).toBe(0);
    expect((await env.sendReportDelivered(signed!)).status).toBe(200);
    await env.waitForDelivery(signed!.reportId, 'delivered');
  });
});
