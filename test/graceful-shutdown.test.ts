import { afterEach, describe, expect, it } from 'vitest';
import type { SignedRef } from '../src/standins/avara-sandbox/sandbox-types.ts';
import { startChildAppHarness, type ChildAppHarness, type ChildRun } from './support/child-app-harness.ts';
import { countFhirCopies } from './support/count-fhir-copies.ts';
import { HANG_GUARD_MS } from './support/wait-for.ts';

// The real `avara-fhir-sync serve` as a child: its own signal handling is what is under test.
// The embedded FHIR store answers slowly, so 50 deliveries (WORKER_CONCURRENCY=50) are in flight
// when the signal arrives.
const IN_FLIGHT = 50;
const RADIOLOGISTS = 5;
// Each test's waits are bounded by progress (the harness fails a wait when the child's queue stood
// still for 30 s), so the vitest timeout is only a guard against a hang: warm-up, 50 deliveries in
// flight, a grace of up to 20 s and a restart may take minutes on a busy machine and still be right.
const TEST_TIMEOUT_MS = HANG_GUARD_MS;

describe('stopping serve with SIGTERM during 50 in-flight deliveries', () => {
  let harness: ChildAppHarness;
  afterEach(() => harness.stop());

  /**
   * Delivers reports until the EHR has a Practitioner for each of the sandbox's five
   * radiologists: deliveries for a signer new to the EHR take a lock on it and would wait for
   * each other, so without this only a handful of the 50 would really be in flight.
   */
  async function deliverUntilEverySignerIsKnown(): Promise<SignedRef[]> {
    const warmUp: SignedRef[] = [];
    for (let round = 0; round < 10 && (await harness.fhirCount('Practitioner')) < RADIOLOGISTS; round++) {
      const batch = await harness.sandbox.signReports(RADIOLOGISTS);
      await harness.waitForDelivered(batch.map((s) => s.reportId));
      warmUp.push(...batch);
    }
    expect(await harness.fhirCount('Practitioner')).toBe(RADIOLOGISTS);
    return warmUp;
  }

  async function startWithDeliveriesInFlight(env: Record<string, string>, fhirDelayMs: number): Promise<{ run: ChildRun; signed: SignedRef[]; warmUp: SignedRef[] }> {
    harness = await startChildAppHarness({ env: { WORKER_CONCURRENCY: String(IN_FLIGHT), ...env } });
    const run = await harness.start({ entry: 'serve' });
    const warmUp = await deliverUntilEverySignerIsKnown();
    harness.fhir.faults.delayMs(fhirDelayMs);
    const signed = await harness.sandbox.signReports(IN_FLIGHT);
    await harness.waitFor(`${IN_FLIGHT} deliveries in progress`, () => harness.deliveryCounts().in_progress === IN_FLIGHT, harness.untilQueueStalls);
    return { run, signed, warmUp };
  }

  // Warm-up deliveries may have been given back too (signer lock busy); only shutdown's count here.
  const shutdownReleases = () => harness.releaseReasons().filter((reason) => reason === 'shutdown').length;

  async function signalAndWaitForStopping(run: ChildRun, signal: NodeJS.Signals): Promise<number> {
    const sentAt = Date.now();
    run.process.kill(signal);
    await run.waitForLog('the stopping line', (line) => line.msg === 'stopping', 10_000);
    return sentAt;
  }

  async function expectEachDeliveredOnce(signed: SignedRef[]): Promise<void> {
    await harness.waitForDelivered(signed.map((s) => s.reportId));
    const copies = await countFhirCopies(harness.fhir.baseUrl, harness.sandbox, signed);
    expect({ duplicates: copies.duplicates, missing: copies.missing }).toEqual({ duplicates: 0, missing: 0 });
    expect(harness.deliveryCounts()).toMatchObject({ delivered: signed.length, in_progress: 0, queued: 0 });
  }

  it('finishes the in-flight deliveries, answers new webhooks 503 with Retry-After, and exits 0', { timeout: TEST_TIMEOUT_MS }, async () => {
    const { run, signed, warmUp } = await startWithDeliveriesInFlight({ SHUTDOWN_GRACE_SECONDS: '20' }, 1000);
    const [late] = await harness.sandbox.signReports(1, { sendWebhooks: false });
    const sentAt = await signalAndWaitForStopping(run, 'SIGTERM');

    const refused = await harness.postReportDelivered(late!);
    expect(refused.status).toBe(503);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await run.exited).toEqual({ code: 0, signal: null });
    console.log(`graceful shutdown: exit 0 after ${Date.now() - sentAt} ms with ${IN_FLIGHT} in flight (grace 20 s)`);
    expect(Date.now() - sentAt).toBeLessThan(20_000 + 5_000);
    // Everything in flight was finished before exit, none given back; the refused webhook was not stored.
    expect(harness.deliveryCounts()).toMatchObject({ in_progress: 0, queued: 0, delivered: warmUp.length + IN_FLIGHT });
    expect(shutdownReleases()).toBe(0);
    expect(harness.inboxCount(late!.webhookId)).toBe(0);

    harness.fhir.faults.delayMs(0);
    await harness.start({ entry: 'serve' });
    expect((await harness.postReportDelivered(late!)).status).toBe(200);
    await expectEachDeliveredOnce([...warmUp, ...signed, late!]);
  });

  it('gives the leases of deliveries still running at the end of a short grace back to the queue, and delivers them after restart', { timeout: TEST_TIMEOUT_MS }, async () => {
    const { run, signed, warmUp } = await startWithDeliveriesInFlight({ SHUTDOWN_GRACE_SECONDS: '1' }, 4000);
    const sentAt = await signalAndWaitForStopping(run, 'SIGTERM');
    expect(await run.exited).toEqual({ code: 0, signal: null });
    const exitMs = Date.now() - sentAt;
    console.log(`graceful shutdown: exit 0 after ${exitMs} ms (grace 1 s), ${shutdownReleases()} leases released`);
    expect(exitMs).toBeLessThan(1_000 + 4_000);
    // Released, not left leased: the next start may take them at once, without waiting out a lease.
    expect(harness.deliveryCounts()).toMatchObject({ in_progress: 0, queued: IN_FLIGHT });
    expect(shutdownReleases()).toBe(IN_FLIGHT);

    harness.fhir.faults.delayMs(0);
    await harness.start({ entry: 'serve' });
    await expectEachDeliveredOnce([...warmUp, ...signed]);
  });

  it('exits at once on a second signal, and the restart still delivers every report once', { timeout: TEST_TIMEOUT_MS }, async () => {
    const { run, signed, warmUp } = await startWithDeliveriesInFlight({ SHUTDOWN_GRACE_SECONDS: '30' }, 4000);
    await signalAndWaitForStopping(run, 'SIGTERM');
    const secondAt = Date.now();
    run.process.kill('SIGINT');
    const exit = await run.exited;
    const exitMs = Date.now() - secondAt;
    console.log(`graceful shutdown: second signal, exit ${exit.code} after ${exitMs} ms`);
    // It exits by itself (the CLI's second-signal path), not by the signal's default action.
    expect(exit.signal).toBeNull();
    expect(exit.code).not.toBe(0);
    expect(exitMs).toBeLessThan(2_000);
    // No time to finish or release: the leases stay until they expire (LEASE_SECONDS=5).
    expect(harness.deliveryCounts()).toMatchObject({ in_progress: IN_FLIGHT, delivered: warmUp.length });

    harness.fhir.faults.delayMs(0);
    await harness.start({ entry: 'serve' });
    await expectEachDeliveredOnce([...warmUp, ...signed]);
  });
});
