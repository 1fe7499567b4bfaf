import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SignedRef } from '../src/standins/avara-sandbox/sandbox-types.ts';
import { startChildAppHarness, type ChildAppHarness } from './support/child-app-harness.ts';
import { countFhirCopies } from './support/count-fhir-copies.ts';

// Each test: a child with CRASH_AT kills itself with SIGKILL at that point; a plain child
// (no hooks) restarts on the same SQLite file and port. A lease left by the dead child expires
// after LEASE_SECONDS=5 before its delivery is taken up again, hence the generous timeouts.
const TEST_TIMEOUT_MS = 60_000;

describe('kill -9 at a named crash point, then restart', () => {
  let harness: ChildAppHarness;
  beforeEach(async () => { harness = await startChildAppHarness(); });
  afterEach(() => harness.stop());

  async function expectEachDeliveredOnce(signed: SignedRef[]): Promise<void> {
    await harness.waitForDelivered(signed.map((s) => s.reportId));
    const copies = await countFhirCopies(harness.fhir.baseUrl, harness.sandbox, signed);
    expect(copies.counts.filter((c) => c.found !== 1)).toEqual([]);
    expect({ duplicates: copies.duplicates, missing: copies.missing }).toEqual({ duplicates: 0, missing: 0 });
  }

  it('after the inbox commit, before the 2xx: the webhook is kept once and the report delivered once', { timeout: TEST_TIMEOUT_MS }, async () => {
    const crashing = await harness.start({ env: { CRASH_AT: 'after_inbox_commit' } });
    const signed = await harness.sandbox.signReports(3);
    expect((await crashing.exited).signal).toBe('SIGKILL');
    // Committed before the answer: Avara never got a 2xx for the webhook that killed the child.
    const unanswered = harness.sandbox.webhookOutcomes().filter((o) => !o.delivered);
    expect(unanswered.length).toBeGreaterThanOrEqual(1);
    expect(harness.inboxCount()).toBeGreaterThanOrEqual(1);

    await harness.start();
    // Avara keeps redelivering an unanswered webhook, with the same webhook-id.
    for (const { webhookId } of unanswered) expect((await harness.sandbox.resendWebhook(webhookId)).lastStatus).toBe(200);
    for (const { webhookId } of signed) expect(harness.inboxCount(webhookId)).toBe(1);
    expect(harness.inboxCount()).toBe(3);
    await expectEachDeliveredOnce(signed);
  });

  it('after the FHIR commit, before marking delivered: the unknown outcome is retried without a second copy', { timeout: TEST_TIMEOUT_MS }, async () => {
    const crashing = await harness.start({ env: { CRASH_AT: 'after_fhir_commit' } });
    const signed = await harness.sandbox.signReports(3);
    expect((await crashing.exited).signal).toBe('SIGKILL');
    // The EHR holds the transaction of a delivery our database still shows as leased.
    const leased = signed.filter((s) => harness.delivery(s.reportId)?.state === 'in_progress');
    const committed = await countFhirCopies(harness.fhir.baseUrl, harness.sandbox, leased);
    expect(committed.counts.filter((c) => c.resourceType === 'DocumentReference' && c.found === 1).length).toBeGreaterThanOrEqual(1);
    expect(harness.deliveryCounts().delivered).toBe(0);

    await harness.start();
    await expectEachDeliveredOnce(signed);
  });

  it('after the FHIR commit of an addendum: the study keeps one DiagnosticReport and each report one DocumentReference', { timeout: TEST_TIMEOUT_MS }, async () => {
    // The first commit delivers the original report; the second, the addendum's, kills the child.
    const crashing = await harness.start({ env: { CRASH_AT: 'after_fhir_commit', CRASH_AFTER: '2' } });
    const original = await harness.sandbox.signReports(1);
    await harness.waitForDelivered(original.map((s) => s.reportId));
    const addendum = await harness.sandbox.signReports(1, { addendum: true, studyIds: [original[0]!.studyId] });
    expect((await crashing.exited).signal).toBe('SIGKILL');
    expect(harness.delivery(addendum[0]!.reportId)?.state).toBe('in_progress');

    await harness.start();
    await expectEachDeliveredOnce([...original, ...addendum]);
  });

  it('in the middle of a PDF download: nothing reached the EHR, and the restart delivers each report once', { timeout: TEST_TIMEOUT_MS }, async () => {
    const crashing = await harness.start({ env: { CRASH_AT: 'mid_pdf_download' } });
    const signed = await harness.sandbox.signReports(3);
    expect((await crashing.exited).signal).toBe('SIGKILL');
    // Every delivery downloads its PDFs before its transaction, so the first download precedes any write.
    const before = await countFhirCopies(harness.fhir.baseUrl, harness.sandbox, signed);
    expect(before.totals).toEqual({ DiagnosticReport: 0, DocumentReference: 0, ImagingStudy: 0, Patient: 0 });
    expect(harness.deliveryCounts().in_progress).toBeGreaterThanOrEqual(1);

    await harness.start();
    await expectEachDeliveredOnce(signed);
  });
});
