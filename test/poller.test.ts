import type { DiagnosticReport, Patient } from '@medplum/fhirtypes';
import { afterEach, describe, expect, it } from 'vitest';
import { statusReport } from '../src/commands/status-report.ts';
import { openStoreFromConfig } from '../src/store/open-store-from-config.ts';
import { createAvaraClient } from '../src/avara/avara-client.ts';
import { createLogger } from '../src/create-logger.ts';
import { POLL_CURSOR_KEY, startPoller } from '../src/deliveries/poller.ts';
import { WORKER_IN_MAIN_THREAD } from './support/serve-test-settings.ts';
import { startTestEnv, type TestEnv } from './support/test-env.ts';
import { HANG_GUARD_MS } from './support/wait-for.ts';
import { sqliteOf } from './support/sqlite-of.ts';

const SID = 'https://api.avarasoftware.com/fhir/sid';
const PER_REPORT_ROUTES = ['GET /v1/autoScribe/reports', 'GET /v1/autoScribe/reports/text', 'GET /v1/autoScribe/reports/pdf', 'GET /_files/{name}', 'GET /v1/autoScribe/studies/{studyId}'];

/** However long it takes, as long as the queue keeps moving (a busy machine is slow, not wrong). */
async function settle(env: TestEnv, total: number): Promise<void> {
  await env.waitFor(`${total} deliveries to settle`, async () => {
    const counts = (await env.app.store.deliveries.countByState());
    return counts.delivered + counts.skipped + counts.dead === total && counts.queued + counts.in_progress + counts.failed === 0;
  }, env.untilQueueStalls);
}

// The poller's sweeps and what they enqueue, not which thread delivers: the worker runs beside
// the server (WORKER_IN_MAIN_THREAD), sparing a delivery thread's start per test.
describe('reconciliation poller', () => {
  let env: TestEnv;
  afterEach(() => env.stop());

  it('delivers every report exactly once after one sweep when 40% of 300 webhooks were dropped, and a second sweep costs no per-study call', async () => {
    env = await startTestEnv({ env: { ...WORKER_IN_MAIN_THREAD, WORKER_CONCURRENCY: '8', POLL_MAX_REQUESTS_PER_SECOND: '100' } });
    env.sandbox.setWebhookDrop(0.4);
    const signed = await env.sandbox.signReports(300);
    const dropped = env.sandbox.webhookOutcomes().filter((o) => o.dropped).length;
    expect(dropped).toBeGreaterThan(60);
    const first = await env.app.poller.sweepNow();
    expect(first).toMatchObject({ ran: true, completed: true, studies: 300 });
    expect(first.enqueued).toBe(dropped);
    await settle(env, 300);
    expect((await env.app.store.deliveries.countByState()).delivered).toBe(300);
    const reports = await env.fhirSearch('DiagnosticReport');
    expect(reports).toHaveLength(300);
    expect(new Set(reports.map((r) => (r as { identifier?: { system?: string; value?: string }[] }).identifier?.find((i) => i.system === `${SID}/study-id`)?.value)).size).toBe(300);
    expect(new Set(signed.map((s) => s.studyId)).size).toBe(300);

    env.sandbox.resetCounts();
    const second = await env.app.poller.sweepNow();
    expect(second).toMatchObject({ completed: true, changedStudies: 0, enqueued: 0 });
    const counts = env.sandbox.requestCounts();
    for (const route of PER_REPORT_ROUTES) expect(counts[route] ?? 0).toBe(0);
    expect(counts['GET /v1/autoScribe/studies']).toBe(3);
  }, HANG_GUARD_MS);

  it('delivers exactly once when pages repeat an item and reorder between calls', async () => {
    env = await startTestEnv({ env: { ...WORKER_IN_MAIN_THREAD, POLL_MAX_REQUESTS_PER_SECOND: '100' }, sandbox: { studies: 0 } });
    env.sandbox.setWebhookDrop(true);
    await env.sandbox.signReports(45);
    env.sandbox.setPageChaos(true);
    const outcome = await env.app.poller.sweepNow();
    expect(outcome.enqueued).toBe(45);
    await settle(env, 45);
    expect(await env.fhirSearch('DiagnosticReport')).toHaveLength(45);
    expect(await env.fhirSearch('DocumentReference')).toHaveLength(45);
  }, HANG_GUARD_MS);

  it('finds an addendum whose webhook was missed and delivers it as an amendment', async () => {
    env = await startTestEnv({ env: WORKER_IN_MAIN_THREAD });
    const [original] = await env.sandbox.signReports(1);
    await env.waitForDelivery(original!.reportId, 'delivered');
    await env.app.poller.sweepNow();
    env.sandbox.setWebhookDrop(true);
    const [addendum] = await env.sandbox.signReports(1, { addendum: true, studyIds: [original!.studyId] });
    expect((await env.app.poller.sweepNow()).enqueued).toBe(1);
    await env.waitForDelivery(addendum!.reportId, 'delivered');
    const [report] = await env.fhirSearch<DiagnosticReport>('DiagnosticReport');
    expect(report!.status).toBe('appended');
    expect(await env.fhirSearch('DocumentReference')).toHaveLength(2);
  });

  it('changes nothing when an addendum is opened and then cancelled in Avara', async () => {
    env = await startTestEnv({ env: WORKER_IN_MAIN_THREAD });
    const [original] = await env.sandbox.signReports(1);
    await env.waitForDelivery(original!.reportId, 'delivered');
    await env.app.poller.sweepNow();
    const headers = { authorization: `Bearer ${env.sandbox.apiKey}` };
    expect((await fetch(`${env.sandbox.baseUrl}/v1/autoScribe/reports/${original!.reportId}/addendum`, { method: 'POST', headers })).status).toBe(200);
    expect((await env.app.poller.sweepNow()).enqueued).toBe(0);
    expect((await fetch(`${env.sandbox.baseUrl}/v1/autoScribe/reports/${original!.reportId}/cancel-addendum`, { method: 'POST', headers })).status).toBe(200);
    expect((await env.app.poller.sweepNow()).enqueued).toBe(0);
    expect(Object.values((await env.app.store.deliveries.countByState())).reduce((a, b) => a + b, 0)).toBe(1);
    expect(await env.fhirSearch('DocumentReference')).toHaveLength(1);
  });

  it('flags a study cancelled after delivery for a person and retracts nothing', async () => {
    env = await startTestEnv({ env: WORKER_IN_MAIN_THREAD });
    const [signed] = await env.sandbox.signReports(1);
    await env.waitForDelivery(signed!.reportId, 'delivered');
    await env.app.poller.sweepNow();
    const study = env.sandbox.getStudyState(signed!.studyId);
    study.isCancelled = true;
    study.cancelledAt = new Date().toISOString();
    study.updatedAt = new Date().toISOString();
    await env.app.poller.sweepNow();
    await env.app.poller.sweepNow();
    const flags = (await env.app.store.audit.ofReport(signed!.reportId)).filter((e) => e.event === 'study_cancelled_after_delivery');
    expect(flags).toHaveLength(1);
    expect((await statusReport(env.app.store, Date.now())).cancelledAfterDelivery).toBe(1);
    const metrics = await (await fetch(`${env.app.url}/metrics`)).text();
    expect(metrics).toMatch(/^avara_fhir_sync_studies_cancelled_after_delivery 1$/m);
    expect(metrics).toMatch(/^avara_fhir_sync_poll_last_success_timestamp_seconds [1-9]/m);
    expect(env.delivery(signed!.reportId)?.state).toBe('delivered');
    const [report] = await env.fhirSearch<DiagnosticReport>('DiagnosticReport');
    expect(report!.status).toBe('final');
  });

  it('skips a study cancelled before any delivery when the poller finds it', async () => {
    env = await startTestEnv({ env: WORKER_IN_MAIN_THREAD });
    env.sandbox.setWebhookDrop(true);
    const [signed] = await env.sandbox.signReports(1);
    env.sandbox.getStudyState(signed!.studyId).isCancelled = true;
    await env.app.poller.sweepNow();
    const row = await env.waitForDelivery(signed!.reportId, 'skipped');
    expect(row.lastErrorCode).toBe('study_cancelled');
    expect(await env.fhirSearch('DiagnosticReport')).toHaveLength(0);
  });

  it('records a demographic correction after delivery by field name only, leaving the Patient untouched', async () => {
    env = await startTestEnv({ env: WORKER_IN_MAIN_THREAD });
    const [signed] = await env.sandbox.signReports(1);
    await env.waitForDelivery(signed!.reportId, 'delivered');
    await env.app.poller.sweepNow();
    const study = env.sandbox.getStudyState(signed!.studyId);
    const [before] = await env.fhirSearch<Patient>('Patient');
    study.reportMetadata.patientName = 'Corrected Name-Canary';
    study.updatedAt = new Date().toISOString();
    await env.app.poller.sweepNow();
    const change = (await env.app.store.audit.ofReport(signed!.reportId)).find((e) => e.event === 'demographics_changed');
    expect(change?.detail).toEqual({ studyId: signed!.studyId, fields: ['patientName'] });
    expect(JSON.stringify(change)).not.toContain('Canary');
    const [after] = await env.fhirSearch<Patient>('Patient');
    expect(after!.meta?.versionId).toBe(before!.meta?.versionId);
  });

  it('resumes a sweep that failed half-way from its saved cursor', async () => {
    // Two requests a second leave time to arm the fault between the first page and the second.
    env = await startTestEnv({ env: { ...WORKER_IN_MAIN_THREAD, POLL_MAX_REQUESTS_PER_SECOND: '2' }, sandbox: { studies: 250 } });
    env.sandbox.resetCounts();
    const failed = env.app.poller.sweepNow().catch((error: unknown) => error);
    await env.waitFor('the first page', () => (env.sandbox.requestCounts()['GET /v1/autoScribe/studies'] ?? 0) >= 1);
    // The client retries twice in-process; five failures outlast that on the second page.
    env.sandbox.failNext('GET /v1/autoScribe/studies', { status: 503, times: 5 });
    expect(await failed).toBeInstanceOf(Error);
    expect((await env.app.store.settings.read(POLL_CURSOR_KEY))).toBeTruthy();
    env.sandbox.clearFaults();
    const resumed = await env.app.poller.sweepNow();
    expect(resumed).toMatchObject({ completed: true, restartedFromZero: false, pages: 2, studies: 150 });
    expect((await env.app.store.settings.read(POLL_CURSOR_KEY))).toBeUndefined();
  });

  it('falls back to a full sweep when Avara no longer accepts the saved cursor', async () => {
    env = await startTestEnv({ env: { ...WORKER_IN_MAIN_THREAD, POLL_MAX_REQUESTS_PER_SECOND: '100' }, sandbox: { studies: 120 } });
    (await env.app.store.settings.write(POLL_CURSOR_KEY, Buffer.from(JSON.stringify({ after: 'stu_gone' })).toString('base64'), Date.now()));
    const outcome = await env.app.poller.sweepNow();
    expect(outcome).toMatchObject({ completed: true, restartedFromZero: true, studies: 120 });
  });

  it('never runs two sweeps at once, even from a second connection to the database as another process has', async () => {
    env = await startTestEnv({ env: { ...WORKER_IN_MAIN_THREAD, POLL_MAX_REQUESTS_PER_SECOND: '5' }, sandbox: { studies: 250 } });
    const otherStore = await openStoreFromConfig({ sqlitePath: sqliteOf(env.app).path });
    const other = startPoller({ store: otherStore, avara: createAvaraClient({ baseUrl: env.sandbox.baseUrl, apiKey: env.sandbox.apiKey, pdfAllowedHosts: [] }), log: createLogger('silent'), settings: { intervalMs: 0, maxRequestsPerSecond: 5 } });
    const [a, b] = await Promise.all([env.app.poller.sweepNow(), other.sweepNow()]);
    await other.stop();
    await otherStore.close();
    expect([a.ran, b.ran].sort()).toEqual([false, true]);
  });
});
