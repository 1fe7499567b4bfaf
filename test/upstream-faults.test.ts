import { afterEach, describe, expect, it } from 'vitest';
import { WORKER_IN_MAIN_THREAD } from './support/serve-test-settings.ts';
import { startTestEnv, type TestEnv } from './support/test-env.ts';
import { HANG_GUARD_MS, sleep } from './support/wait-for.ts';

const SID = 'https://api.avarasoftware.com/fhir/sid';

// What a delivery decides under Avara's answers, not which thread runs it: the worker runs beside
// the server (WORKER_IN_MAIN_THREAD), sparing a delivery thread's start per test.
describe('Avara answering with rate limits and refusals', () => {
  let env: TestEnv;
  afterEach(() => env.stop());

  it('delivers 20 reports exactly once while Avara answers 429 with Retry-After on every third call', async () => {
    env = await startTestEnv({ env: WORKER_IN_MAIN_THREAD });
    env.sandbox.failEvery(3, { status: 429, retryAfterMs: 50 });
    const signed = await env.sandbox.signReports(20);
    // As long as it takes while the queue moves: every third call waits out a Retry-After.
    for (const ref of signed) await env.waitForDelivery(ref.reportId, 'delivered', env.untilQueueStalls);
    for (const ref of signed) {
      expect(await env.fhirSearch('DiagnosticReport', { identifier: `${SID}/study-id|${ref.studyId}` })).toHaveLength(1);
    }
    expect(await env.fhirSearch('DiagnosticReport')).toHaveLength(20);
  }, HANG_GUARD_MS);

  it('does not count a long Retry-After as a failed attempt: the job is released and delivered later', async () => {
    // 31 s is above what the client waits in-process (30 s), so the queue does the waiting.
    env = await startTestEnv({ env: { ...WORKER_IN_MAIN_THREAD, MAX_ATTEMPTS: '1' } });
    env.sandbox.failNext('GET /v1/autoScribe/studies/{studyId}', { status: 429, retryAfterMs: 31_000, times: 1 });
    const [signed] = await env.sandbox.signReports(1);
    await env.waitFor('the rate-limited release', async () => (await env.app.store.audit.ofReport(signed!.reportId)).some((e) => e.event === 'released'));
    const row = env.delivery(signed!.reportId)!;
    expect(row.state).toBe('queued');
    expect(row.attempts).toBe(0);
    expect(row.nextAttemptAt - Date.now()).toBeGreaterThan(25_000);
  });

  it('pauses the worker with an alert instead of burning attempts when Avara refuses the API key', async () => {
    env = await startTestEnv({ env: { ...WORKER_IN_MAIN_THREAD, MAX_ATTEMPTS: '2' } });
    env.sandbox.failNext('GET /v1/autoScribe/studies/{studyId}', { status: 401, times: 5 });
    const signed = await env.sandbox.signReports(3);
    await env.waitFor('the credentials alert', () => env.logText().includes('credentials_refused'));
    await sleep(300);
    for (const ref of signed) {
      const row = env.delivery(ref.reportId)!;
      expect(row.state).not.toBe('dead');
      expect(row.attempts).toBe(0);
    }
    // Paused: one refusal stops the worker from trying the other jobs.
    expect(env.sandbox.requestCounts()['GET /v1/autoScribe/studies/{studyId}']).toBeLessThanOrEqual(4);
    const alert = env.logText().split('\n').find((line) => line.includes('credentials_refused'))!;
    expect(JSON.parse(alert).level).toBe(60);
  });
});
