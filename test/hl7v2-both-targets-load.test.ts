import { Hl7Message } from '@medplum/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SignedRef } from '../src/standins/avara-sandbox/sandbox-types.ts';
import type { MllpReceiver, ReceivedMessage } from '../src/standins/mllp-receiver/start-mllp-receiver.ts';
import type { ChildAppHarness } from './support/child-app-harness.ts';
import { startHl7v2Child, studyOfMessage } from './support/hl7v2-child.ts';
import { countFhirCopies } from './support/count-fhir-copies.ts';
import { standInActivity } from './support/start-stand-ins.ts';
import { failOnStall, HANG_GUARD_MS, STALL_MS } from './support/wait-for.ts';

// 200 reports through a real `serve` child with both targets. Bounded by progress: the body fails
// when nothing moved (reports signed, requests to the stand-ins, messages at the receiver, the
// child's queue) for STALL_MS; the vitest timeout is only the hang guard.
const REPORTS = 200;
const BATCH = 20;
const REDELIVERY_ROUNDS = 5;
const DROPPED = 3;

/** The message without MSH-7 (time) and MSH-10 (control id): what the receiver would file. */
function contentOf(message: ReceivedMessage): string {
  const msh = Hl7Message.parse(message.text).getSegment('MSH')!;
  const fields = msh.toString().split('|');
  // MSH-1 is the separator itself, so MSH-n is fields[n - 1].
  fields[6] = '';
  fields[9] = '';
  return [fields.join('|'), ...message.text.split('\r').slice(1)].join('\r');
}
const studyOf = studyOfMessage;

describe('[long] 200 reports over both targets (DELIVERY_TARGETS=fhir,hl7v2) through serve', () => {
  let receiver: MllpReceiver;
  let harness: ChildAppHarness;
  let stop: () => Promise<void>;
  beforeEach(async () => {
    ({ receiver, harness, stop } = await startHl7v2Child({ WORKER_CONCURRENCY: '8' }));
  });
  afterEach(() => stop());

  it('each report reaches both, resends included: no duplicate accepted content at the receiver, one DiagnosticReport per study', { timeout: HANG_GUARD_MS }, async () => {
    const signed: SignedRef[] = [];
    // The child's database exists once it listened (it migrates the file first).
    let listening = false;
    const progress = () => ({
      signed: signed.length,
      received: receiver.received().length,
      ...standInActivity(harness.sandbox, harness.fhir),
      deliveries: listening ? harness.deliveryCounts() : undefined,
    });
    const started = Date.now();
    await failOnStall('200 reports over both targets', (async () => {
      const run = await harness.start({ entry: 'serve' });
      listening = true;
      for (let n = 0; n < REPORTS; n += BATCH) {
        // Midway, a few messages are kept by the receiver and their connection cut before the ACK:
        // their outcome is unknown to serve, which sends them again under the same control id.
        if (n === REPORTS / 2) receiver.commitThenDrop(DROPPED);
        signed.push(...(await harness.sandbox.signReports(BATCH)));
      }
      // The sandbox's sender gives up after three quick attempts (e.g. while the child indexes the
      // FHIR definitions at its first validation); Avara's real one retries for days.
      for (let round = 0; round < REDELIVERY_ROUNDS; round++) {
        const acknowledged = new Set(harness.sandbox.webhookOutcomes().filter((o) => o.delivered).map((o) => o.webhookId));
        const unanswered = signed.filter((s) => !acknowledged.has(s.webhookId));
        if (unanswered.length === 0) break;
        for (const { webhookId } of unanswered) await harness.sandbox.resendWebhook(webhookId);
      }
      const ids = signed.map((s) => s.reportId);
      await harness.waitForDelivered(ids, harness.untilQueueStalls, 'hl7v2');
      await harness.waitForDelivered(ids);
      await run.kill9();
    })(), { stallMs: STALL_MS, progress });

    expect(signed).toHaveLength(REPORTS);
    expect(new Set(signed.map((s) => s.studyId)).size).toBe(REPORTS);
    expect(harness.deliveryCounts()).toEqual({ queued: 0, in_progress: 0, delivered: 2 * REPORTS, skipped: 0, failed: 0, dead: 0 });

    // The receiver: one accepted control id per report, one content per control id, one control id per study.
    const received = receiver.received();
    expect(receiver.acceptedContents()).toHaveLength(REPORTS);
    expect(received.length).toBeGreaterThanOrEqual(REPORTS + DROPPED);
    const controlIdsByContent = new Map<string, Set<string>>();
    const controlIdsByStudy = new Map<string, Set<string>>();
    for (const m of received) {
      controlIdsByContent.set(contentOf(m), (controlIdsByContent.get(contentOf(m)) ?? new Set()).add(m.controlId));
      controlIdsByStudy.set(studyOf(m), (controlIdsByStudy.get(studyOf(m)) ?? new Set()).add(m.controlId));
    }
    expect(controlIdsByContent.size).toBe(REPORTS);
    expect([...controlIdsByContent.values()].filter((ids) => ids.size !== 1)).toEqual([]);
    expect(controlIdsByStudy.size).toBe(REPORTS);
    expect([...controlIdsByStudy.values()].filter((ids) => ids.size !== 1)).toEqual([]);
    for (const { reportId, studyId } of signed) {
      expect(harness.delivery(reportId, 'hl7v2')?.hl7ControlId).toBe([...controlIdsByStudy.get(studyId)!][0]);
    }

    // FHIR: one DiagnosticReport per study (and no other duplicate), found by business identifier.
    const copies = await countFhirCopies(harness.fhir.baseUrl, harness.sandbox, signed);
    expect(copies.counts.filter((c) => c.found !== 1)).toEqual([]);
    expect(copies.totals.DiagnosticReport).toBe(REPORTS);
    console.log(`hl7v2 both targets: ${JSON.stringify({ reports: REPORTS, messagesReceived: received.length, resends: received.length - REPORTS, seconds: Math.round((Date.now() - started) / 100) / 10 })}`);
  });
});
