import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { startApp, type RunningApp } from '../src/app.ts';
import { createAvaraClient } from '../src/avara/avara-client.ts';
import { loadConfig } from '../src/config/load-config.ts';
import { createLogger } from '../src/create-logger.ts';
import { startPoller } from '../src/deliveries/poller.ts';
import { getDeliveriesOfReport } from '../src/store/deliveries.ts';
import { FIRST_STARTED_KEY } from '../src/store/first-start.ts';
import { openStoreFromConfig } from '../src/store/open-store-from-config.ts';
import { createOlderDatabase } from './support/older-database.ts';
import { startStandIns, type StandIns } from './support/start-stand-ins.ts';
import { WORKER_IN_MAIN_THREAD } from './support/serve-test-settings.ts';
import { startTestEnv, type TestEnv } from './support/test-env.ts';
import { sqliteOf } from './support/sqlite-of.ts';

const DAY_MS = 86_400_000;
const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);

function deliveredRowIds(env: { app: RunningApp }): string[] {
  return (sqliteOf(env.app).sqlite.prepare('SELECT DISTINCT report_id AS id FROM deliveries').all() as { id: string }[]).map((r) => r.id).sort();
}

/** Seeded reports (signed 1 hour to 30 days before the sandbox started) signed at or after `fromMs`. */
function seededSignedFrom(sandbox: StandIns['sandbox'], fromMs: number): string[] {
  return sandbox.allReportStates().filter(({ report }) => Date.parse(report.signedAt ?? '') >= fromMs).map(({ report }) => report.reportId).sort();
}

// What the poller leaves to backfill, not which thread delivers: the worker runs beside the server
// (WORKER_IN_MAIN_THREAD), sparing a delivery thread's start per test.
describe('the poller and history from before the first start', () => {
  let env: TestEnv | undefined;
  afterEach(async () => {
    await env?.stop();
    env = undefined;
  });

  it('enqueues none of the reports signed before the first start, and delivers one signed after it', async () => {
    env = await startTestEnv({ env: { ...WORKER_IN_MAIN_THREAD, POLL_MAX_REQUESTS_PER_SECOND: '1000' }, sandbox: { studies: 60 } });
    const firstStart = Number((await env.app.store.settings.read(FIRST_STARTED_KEY)));
    expect(firstStart).toBeGreaterThan(Date.now() - 60_000);
    const first = await env.app.poller.sweepNow();
    expect(first).toMatchObject({ completed: true, studies: 60, enqueued: 0, historical: 60 });
    expect(deliveredRowIds(env)).toEqual([]);

    env.sandbox.setWebhookDrop(true);
    const [fresh] = await env.sandbox.signReports(1);
    const second = await env.app.poller.sweepNow();
    expect(second).toMatchObject({ enqueued: 1, historical: 0 });
    await env.waitForDelivery(fresh!.reportId, 'delivered');
    expect(deliveredRowIds(env)).toEqual([fresh!.reportId]);
  });

  it('delivers an addendum signed after the first start on an old study, and leaves the original alone', async () => {
    env = await startTestEnv({ env: { ...WORKER_IN_MAIN_THREAD, POLL_MAX_REQUESTS_PER_SECOND: '1000' }, sandbox: { studies: 5 } });
    await env.app.poller.sweepNow();
    const [old] = env.sandbox.allReportStates();
    env.sandbox.setWebhookDrop(true);
    const [addendum] = await env.sandbox.signReports(1, { addendum: true, studyIds: [old!.report.studyId] });
    const sweep = await env.app.poller.sweepNow();
    expect(sweep).toMatchObject({ enqueued: 1, historical: 1, changedStudies: 1 });
    await env.waitForDelivery(addendum!.reportId, 'delivered');
    expect(getDeliveriesOfReport(sqliteOf(env.app).db, old!.report.reportId)).toEqual([]);
    expect(deliveredRowIds(env)).toEqual([addendum!.reportId]);
  });

  it('delivers an old report whose webhook arrives after the first start: webhooks are never filtered', async () => {
    env = await startTestEnv({ env: WORKER_IN_MAIN_THREAD, sandbox: { studies: 3 } });
    const [old] = env.sandbox.allReportStates();
    expect((await env.sendReportDelivered({ studyId: old!.report.studyId, reportId: old!.report.reportId })).status).toBe(200);
    await env.waitForDelivery(old!.report.reportId, 'delivered');
  });

  it('with POLL_SINCE reaching back, enqueues the reports signed from that day on and none older', async () => {
    const since = day(Date.now() - 10 * DAY_MS);
    env = await startTestEnv({ env: { ...WORKER_IN_MAIN_THREAD, POLL_MAX_REQUESTS_PER_SECOND: '1000', POLL_SINCE: since }, sandbox: { studies: 80 } });
    await env.fhir.faults.down(); // the queue is under test, not the deliveries
    const inRange = seededSignedFrom(env.sandbox, Date.parse(`${since}T00:00:00Z`));
    expect(inRange.length).toBeGreaterThan(5);
    expect(inRange.length).toBeLessThan(80);
    const sweep = await env.app.poller.sweepNow();
    expect(sweep).toMatchObject({ enqueued: inRange.length, historical: 80 - inRange.length });
    expect(deliveredRowIds(env)).toEqual(inRange);
  });

  it('looks at unchanged studies again when POLL_SINCE is moved back after a sweep', async () => {
    env = await startTestEnv({ env: { ...WORKER_IN_MAIN_THREAD, POLL_MAX_REQUESTS_PER_SECOND: '1000' }, sandbox: { studies: 40 } });
    await env.fhir.faults.down();
    expect(await env.app.poller.sweepNow()).toMatchObject({ enqueued: 0, historical: 40 });
    const sinceMs = Date.parse(`${day(Date.now() - 12 * DAY_MS)}T00:00:00Z`);
    const store = await openStoreFromConfig({ sqlitePath: sqliteOf(env.app).path });
    const avara = createAvaraClient({ baseUrl: env.sandbox.baseUrl, apiKey: env.sandbox.apiKey, pdfAllowedHosts: [] });
    const reaching = startPoller({ store, avara, log: createLogger('silent'), settings: { intervalMs: 0, maxRequestsPerSecond: 1000, sinceMs } });
    try {
      const inRange = seededSignedFrom(env.sandbox, sinceMs);
      expect(inRange.length).toBeGreaterThan(3);
      expect((await reaching.sweepNow()).enqueued).toBe(inRange.length);
      expect((await reaching.sweepNow()).enqueued).toBe(0);
      expect(deliveredRowIds(env)).toEqual(inRange);
    } finally {
      await reaching.stop();
      store.close();
    }
  });

  it('looks at every study again when POLL_SINCE is moved back while the first sweep is half-way', async () => {
    // Two requests a second leave time to arm the fault between the first page and the second.
    env = await startTestEnv({ env: { ...WORKER_IN_MAIN_THREAD, POLL_MAX_REQUESTS_PER_SECOND: '2' }, sandbox: { studies: 250 } });
    await env.fhir.faults.down();
    env.sandbox.resetCounts();
    const failed = env.app.poller.sweepNow().catch((error: unknown) => error);
    await env.waitFor('the first page', () => (env!.sandbox.requestCounts()['GET /v1/autoScribe/studies'] ?? 0) >= 1);
    env.sandbox.failNext('GET /v1/autoScribe/studies', { status: 503, times: 5 });
    expect(await failed).toBeInstanceOf(Error);
    env.sandbox.clearFaults();
    const store = await openStoreFromConfig({ sqlitePath: sqliteOf(env.app).path });
    const avara = createAvaraClient({ baseUrl: env.sandbox.baseUrl, apiKey: env.sandbox.apiKey, pdfAllowedHosts: [] });
    const sinceMs = Date.parse(`${day(Date.now() - 40 * DAY_MS)}T00:00:00Z`);
    const reaching = startPoller({ store, avara, log: createLogger('silent'), settings: { intervalMs: 0, maxRequestsPerSecond: 1000, sinceMs } });
    try {
      const outcome = await reaching.sweepNow();
      expect(outcome).toMatchObject({ completed: true, studies: 250, enqueued: 250 });
    } finally {
      await reaching.stop();
      await store.close();
    }
  });

  it('refuses a POLL_SINCE that is not a date, naming it beside every other variable at fault', () => {
    const error = (() => {
      try {
        loadConfig({ POLL_SINCE: '2026-02-30', AVARA_API_KEY: 'sk_live_00000000000000000000000000000000' });
      } catch (caught) {
        return caught as Error & { variables: string[] };
      }
      throw new Error('loadConfig accepted POLL_SINCE=2026-02-30');
    })();
    expect(error.message).toContain('POLL_SINCE: must be a date as YYYY-MM-DD (UTC)');
    expect(error.variables).toEqual(expect.arrayContaining(['POLL_SINCE', 'AVARA_WEBHOOK_KEY', 'FHIR_BASE_URL']));
    expect(error.message).not.toContain('2026-02-30');
  });
});

describe('a database from the release before first starts were recorded', () => {
  let standIns: StandIns | undefined;
  let app: RunningApp | undefined;
  afterEach(async () => {
    await app?.stop();
    await standIns?.stop();
    app = standIns = undefined;
  });

  it('takes its first delivery as its first start: reports signed since then are still reconciled, older ones are not', async () => {
    standIns = await startStandIns({ sandbox: { seed: 11, studies: 60 } });
    const firstActivity = Date.now() - 9 * DAY_MS - 3_600_000;
    createOlderDatabase(standIns.sqlitePath, '0007_delivery_targets', (sqlite) => {
      sqlite.prepare(`insert into deliveries (id, report_id, target, study_id, state, next_attempt_at, source, created_at, updated_at)
        values ('fhir:rep_old', 'rep_old', 'fhir', 'stu_old', 'delivered', 1, 'webhook', ?, ?)`).run(firstActivity, firstActivity);
    });
    const config = loadConfig(standIns.serveEnv({ ...WORKER_IN_MAIN_THREAD, PORT: '0', POLL_INTERVAL_SECONDS: '0', POLL_MAX_REQUESTS_PER_SECOND: '1000', LOG_LEVEL: 'silent' }));
    app = await startApp(config, createLogger('silent', new Writable({ write: (_c, _e, done) => done() })));
    expect(Number((await app.store.settings.read(FIRST_STARTED_KEY)))).toBe(firstActivity);
    await standIns.fhir.faults.down();
    const expected = seededSignedFrom(standIns.sandbox, Math.floor(firstActivity / 1000) * 1000);
    expect(expected.length).toBeGreaterThan(3);
    expect((await app.poller.sweepNow()).enqueued).toBe(expected.length);
    expect(deliveredRowIds({ app }).filter((id) => id !== 'rep_old')).toEqual(expected);
  });
});
