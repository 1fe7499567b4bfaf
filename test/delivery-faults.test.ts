import { afterEach, describe, expect, it } from 'vitest';
import { WORKER_IN_MAIN_THREAD } from './support/serve-test-settings.ts';
import { startTestEnv, type TestEnv } from './support/test-env.ts';

const isTransaction = (method: string, path: string) => method === 'POST' && /\/fhir\/R4\/?$/.test(path);

// What a delivery decides under each fault, not which thread runs it: the worker runs beside the
// server (WORKER_IN_MAIN_THREAD), sparing a delivery thread's start per test.
describe('delivery under upstream and FHIR faults', () => {
  let env: TestEnv;
  afterEach(() => env.stop());

  it('delivers after Avara answers 429 with Retry-After for the study', async () => {
    env = await startTestEnv({ env: WORKER_IN_MAIN_THREAD });
    env.sandbox.failNext('GET /v1/autoScribe/studies/{studyId}', { status: 429, retryAfterSeconds: 1, times: 1 });
    const [signed] = await env.sandbox.signReports(1);
    await env.waitForDelivery(signed!.reportId, 'delivered');
    expect(env.sandbox.requestCounts()['GET /v1/autoScribe/studies/{studyId}']).toBeGreaterThanOrEqual(2);
    expect(await env.fhirSearch('DiagnosticReport')).toHaveLength(1);
  });

  it('delivers after Avara answers 500 for the report list', async () => {
    env = await startTestEnv({ env: WORKER_IN_MAIN_THREAD });
    env.sandbox.failNext('GET /v1/autoScribe/reports', { status: 500, times: 1 });
    const [signed] = await env.sandbox.signReports(1);
    await env.waitForDelivery(signed!.reportId, 'delivered');
    expect(await env.fhirSearch('DiagnosticReport')).toHaveLength(1);
  });

  it('delivers once after the FHIR store answers the transaction with 500', async () => {
    env = await startTestEnv({ env: WORKER_IN_MAIN_THREAD });
    env.fhir.faults.failNext(1, 500, { matcher: isTransaction });
    const [signed] = await env.sandbox.signReports(1);
    await env.waitForDelivery(signed!.reportId, 'delivered');
    expect(await env.fhirSearch('DiagnosticReport')).toHaveLength(1);
    expect(await env.fhirSearch('Patient')).toHaveLength(1);
  });

  it('records failed while the FHIR store is down, then delivers once it is back', async () => {
    env = await startTestEnv({ env: WORKER_IN_MAIN_THREAD });
    await env.fhir.faults.down();
    const [signed] = await env.sandbox.signReports(1);
    // The row flips between failed and in_progress while retrying; the recorded error is stable.
    await env.waitFor('a recorded fhir_unavailable failure', () => env.delivery(signed!.reportId)?.lastErrorCode === 'fhir_unavailable');
    expect(env.delivery(signed!.reportId)?.state).not.toBe('delivered');
    await env.fhir.faults.up();
    const row = await env.waitForDelivery(signed!.reportId, 'delivered');
    expect(row.attempts).toBeGreaterThanOrEqual(2);
    expect(await env.fhirSearch('DiagnosticReport')).toHaveLength(1);
  });

  it('fetches a fresh link when the webhook PDF link has expired, and delivers', async () => {
    env = await startTestEnv({ env: WORKER_IN_MAIN_THREAD });
    const [signed] = await env.sandbox.signReports(1, { sendWebhooks: false });
    env.sandbox.setPdfBehaviour({ linkTtlSeconds: -60 });
    const expiredLink = await env.pdfLink(signed!.reportId);
    env.sandbox.setPdfBehaviour({ linkTtlSeconds: 3600 });
    env.sandbox.resetCounts();
    await env.sendReportDelivered(signed!, { presignedUrl: expiredLink });
    await env.waitForDelivery(signed!.reportId, 'delivered');
    expect(env.sandbox.requestCounts()['GET /_files/{name}']).toBe(2);
    expect(env.sandbox.requestCounts()['GET /v1/autoScribe/reports/pdf']).toBe(1);
  });

  it('never fetches a PDF link to a host outside PDF_ALLOWED_HOSTS, dead-letters it and writes nothing', async () => {
    env = await startTestEnv({ env: WORKER_IN_MAIN_THREAD });
    env.sandbox.setPdfBehaviour({ host: 'localhost' }); // loopback, but not the allowed 127.0.0.1
    const [signed] = await env.sandbox.signReports(1);
    const row = await env.waitForDelivery(signed!.reportId, 'dead');
    expect(row.lastErrorCode).toBe('pdf_host_not_allowed');
    expect(env.sandbox.requestCounts()['GET /_files/{name}'] ?? 0).toBe(0);
    expect(await env.fhirSearch('DiagnosticReport')).toHaveLength(0);
    expect(await env.fhirSearch('Patient')).toHaveLength(0);
  });

  it('dead-letters a link that serves HTML instead of a PDF after MAX_ATTEMPTS, writing nothing', async () => {
    env = await startTestEnv({ env: { ...WORKER_IN_MAIN_THREAD, MAX_ATTEMPTS: '2' } });
    env.sandbox.setPdfBehaviour({ servesHtml: true });
    const [signed] = await env.sandbox.signReports(1);
    const row = await env.waitForDelivery(signed!.reportId, 'dead');
    expect(row.lastErrorCode).toBe('pdf_invalid');
    expect(row.attempts).toBe(2);
    expect(await env.fhirSearch('DiagnosticReport')).toHaveLength(0);
  });

  it('skips a study cancelled before delivery, with study_cancelled in the audit', async () => {
    env = await startTestEnv({ env: WORKER_IN_MAIN_THREAD });
    const [signed] = await env.sandbox.signReports(1, { sendWebhooks: false });
    const study = env.sandbox.getStudyState(signed!.studyId);
    study.isCancelled = true;
    study.cancelledAt = new Date().toISOString();
    await env.sendReportDelivered(signed!);
    const row = await env.waitForDelivery(signed!.reportId, 'skipped');
    expect(row.lastErrorCode).toBe('study_cancelled');
    expect(await env.fhirSearch('DiagnosticReport')).toHaveLength(0);
  });

  it('a skipped report whose study is reinstated is delivered once a person retries it; retried while still cancelled, it is skipped again', async () => {
    const token = 'admin-token-for-skipped-retry-01';
    env = await startTestEnv({ env: { ...WORKER_IN_MAIN_THREAD, ADMIN_TOKEN: token } });
    const retry = (reportId: string) => fetch(`${env.app.url}/api/deliveries/${reportId}/retry`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
    const [signed] = await env.sandbox.signReports(1, { sendWebhooks: false });
    const study = env.sandbox.getStudyState(signed!.studyId);
    study.isCancelled = true;
    study.cancelledAt = new Date().toISOString();
    await env.sendReportDelivered(signed!);
    await env.waitForDelivery(signed!.reportId, 'skipped');
    // Still cancelled: the rule is asked again and skips it again.
    expect((await retry(signed!.reportId)).status).toBe(202);
    await env.waitFor('a second skip', async () => (await env.app.store.audit.ofReport(signed!.reportId)).filter((e) => e.event === 'skipped').length === 2);
    expect(await env.fhirSearch('DiagnosticReport')).toHaveLength(0);
    // A new webhook for the report does not bring it back: its delivery exists.
    study.isCancelled = false;
    study.cancelledAt = null;
    await env.sendReportDelivered(signed!);
    expect(env.delivery(signed!.reportId)?.state).toBe('skipped');
    expect((await retry(signed!.reportId)).status).toBe(202);
    await env.waitForDelivery(signed!.reportId, 'delivered');
    expect(await env.fhirSearch('DiagnosticReport')).toHaveLength(1);
    const trail = (await env.app.store.audit.ofReport(signed!.reportId)).map((e) => e.event);
    expect(trail.filter((e) => e === 'retried')).toHaveLength(2);
    // Once delivered, retry has nothing to do.
    expect((await retry(signed!.reportId)).status).toBe(409);
  });
});
