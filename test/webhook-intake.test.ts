import { sql } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openSqlite } from '../src/store/open-store.ts';
import { startTestEnv, type TestEnv } from './support/test-env.ts';
import { WORKER_IN_MAIN_THREAD } from './support/serve-test-settings.ts';
import { sqliteOf } from './support/sqlite-of.ts';

const OTHER_KEY = 'whsec_aOIOjHX2f9EZlBx83v4B6sCOuq9thgxS';

function reportDelivered(overrides: Record<string, unknown> = {}): string {
  return JSON.stringify({
    id: 'whe_d79072af2b3341b69bd445d423339fbb',
    type: 'report.delivered',
    data: {
      studyId: 'stu_6dd99d7be5f7ac3311100c5f3d5ef252',
      reportId: 'rep_97ab38e6cc59468b8df3a358309c344c',
      isCritical: false,
      presignedUrl: 'https://reports-bucket.example.net/rep_97ab38e6cc59468b8df3a358309c344c.pdf?expires=1&sig=x',
      plainText: 'IMPRESSION: canary sentence that must not be stored',
      ...overrides,
    },
  });
}

describe('POST /webhooks/avara', () => {
  let env: TestEnv;
  beforeEach(async () => {
    // The worker would fetch these invented ids from the sandbox; intake is what is under test.
    env = await startTestEnv({ env: { WORKER_CONCURRENCY: '1', ...WORKER_IN_MAIN_THREAD } });
  });
  afterEach(() => env.stop());

  const stored = async () => ({ inbox: await env.app.store.intake.count(), deliveries: Object.values(await env.app.store.deliveries.countByState()).reduce((a, b) => a + b, 0) });

  it('stores the event and its delivery, then answers 200 {"success":true}', async () => {
    const body = reportDelivered();
    const response = await env.postWebhook(body, env.signedHeaders(body));
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ success: true });
    expect(await stored()).toEqual({ inbox: 1, deliveries: 1 });
  });

  it('answers 401 and stores nothing when the signature was made with another key', async () => {
    const body = reportDelivered();
    const response = await env.postWebhook(body, env.signedHeaders(body, { key: OTHER_KEY }));
    expect(response.status).toBe(401);
    expect(await stored()).toEqual({ inbox: 0, deliveries: 0 });
  });

  it('answers 401 and stores nothing when the timestamp is older than five minutes', async () => {
    const body = reportDelivered();
    const response = await env.postWebhook(body, env.signedHeaders(body, { timestampSeconds: Math.floor(Date.now() / 1000) - 301 }));
    expect(response.status).toBe(401);
    expect(await stored()).toEqual({ inbox: 0, deliveries: 0 });
  });

  it('answers 401 and stores nothing when the signature headers are missing', async () => {
    const response = await env.postWebhook(reportDelivered(), {});
    expect(response.status).toBe(401);
    expect(await stored()).toEqual({ inbox: 0, deliveries: 0 });
  });

  it('answers 400, not 500, for a validly signed body that is not JSON', async () => {
    const body = '{"id": "whe_1", "type": "report.delivered", "data": {';
    const response = await env.postWebhook(body, env.signedHeaders(body));
    expect(response.status).toBe(400);
    expect(await stored()).toEqual({ inbox: 0, deliveries: 0 });
  });

  it('answers 400 naming the field when report.delivered data lacks its reportId', async () => {
    const body = JSON.stringify({ id: 'whe_2', type: 'report.delivered', data: { studyId: 'stu_6dd99d7be5f7ac3311100c5f3d5ef252', isCritical: false, presignedUrl: 'https://x.example/a.pdf' } });
    const response = await env.postWebhook(body, env.signedHeaders(body));
    expect(response.status).toBe(400);
    expect(JSON.stringify(await response.json())).toContain('reportId');
    expect(await stored()).toEqual({ inbox: 0, deliveries: 0 });
  });

  it('answers 413 and stores nothing for a 2 MiB body', async () => {
    const body = reportDelivered({ plainText: 'x'.repeat(2 * 1024 * 1024) });
    const response = await env.postWebhook(body, env.signedHeaders(body));
    expect(response.status).toBe(413);
    expect(await stored()).toEqual({ inbox: 0, deliveries: 0 });
  });

  it('stores a redelivered webhook-id once and answers it 200 every time', async () => {
    const body = reportDelivered();
    const headers = env.signedHeaders(body, { id: 'msg_same' });
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await env.postWebhook(body, headers)).status);
    expect(statuses).toEqual([200, 200, 200]);
    expect(await stored()).toEqual({ inbox: 1, deliveries: 1 });
  });

  it('keeps ids, type and a body hash in the inbox, never the report text', async () => {
    const body = reportDelivered();
    await env.postWebhook(body, env.signedHeaders(body));
    const dump = JSON.stringify(sqliteOf(env.app).sqlite.prepare('SELECT * FROM inbox').all());
    expect(dump).not.toContain('canary sentence');
    expect(dump).toContain('rep_97ab38e6cc59468b8df3a358309c344c');
  });

  it.each([
    ['patient_study.enrichment_requested', {}],
    ['clinical_context.enrichment_requested', {}],
    ['study.access_requested', { authorized: false, urls: [], error: 'not supported by avara-fhir-sync' }],
    ['secondary_capture.access_requested', { authorized: false, uploadUrls: [], error: 'not supported by avara-fhir-sync' }],
  ])('answers %s with 200 and its neutral body', async (type, expected) => {
    const body = JSON.stringify({ id: 'whe_3', type, data: { clinicId: '1b4e28ba-2fa1-41d2-883f-0016d3cca427' } });
    const response = await env.postWebhook(body, env.signedHeaders(body));
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual(expected);
    expect(await stored()).toEqual({ inbox: 0, deliveries: 0 });
  });

  it('answers 503 with Retry-After, never 200, when the database refuses writes', async () => {
    sqliteOf(env.app).sqlite.pragma('query_only = ON');
    const body = reportDelivered();
    const response = await env.postWebhook(body, env.signedHeaders(body));
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toMatch(/^\d+$/);
    sqliteOf(env.app).sqlite.pragma('query_only = OFF');
    expect(await stored()).toEqual({ inbox: 0, deliveries: 0 });
  });

  it('has the acknowledged webhook in the database file after the service stops', async () => {
    const body = reportDelivered();
    await env.postWebhook(body, env.signedHeaders(body));
    expect(sqliteOf(env.app).sqlite.pragma('synchronous', { simple: true })).toBe(2); // FULL: durable across power loss
    expect(sqliteOf(env.app).sqlite.pragma('journal_mode', { simple: true })).toBe('wal');
    await env.app.stop();
    const reopened = openSqlite({ sqlitePath: sqliteOf(env.app).path });
    expect(reopened.db.get<{ n: number }>(sql`select count(*) as n from deliveries`).n).toBe(1);
    reopened.close();
  });
});
