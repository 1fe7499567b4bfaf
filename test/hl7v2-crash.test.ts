import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { MllpReceiver } from '../src/standins/mllp-receiver/start-mllp-receiver.ts';
import { listAuditEvents } from '../src/store/audit.ts';
import type { ChildAppHarness } from './support/child-app-harness.ts';
import { startHl7v2Child, studyOfMessage } from './support/hl7v2-child.ts';
import { countFhirCopies } from './support/count-fhir-copies.ts';
import { HANG_GUARD_MS } from './support/wait-for.ts';

// kill -9 of the real `serve` while its HL7 message waits for an ACK, then a restart on the same
// SQLite file. The dead child's lease expires after LEASE_SECONDS=5 (the harness's setting)
// before the delivery is taken up again; the waits after the restart are bounded by the queue's
// progress, so the vitest timeout is only the hang guard.
const REPORTS = 3;
// Long enough that no ACK leaves before the kill, whatever the machine's load.
const ACK_DELAY_BEFORE_KILL_MS = 10 * 60_000;
const ACK_DELAY_AFTER_RESTART_MS = 100;

const studyOf = studyOfMessage;

describe('kill -9 of serve between sending an HL7 message and its ACK, then restart', () => {
  let receiver: MllpReceiver;
  let harness: ChildAppHarness;
  let stop: () => Promise<void>;
  beforeEach(async () => {
    ({ receiver, harness, stop } = await startHl7v2Child({ HL7_ACK_TIMEOUT_SECONDS: '30' }));
  });
  afterEach(() => stop());

  it('the same content is accepted under one control id only, and every delivery ends delivered on both targets', { timeout: HANG_GUARD_MS }, async () => {
    receiver.delayAcksMs(ACK_DELAY_BEFORE_KILL_MS);
    const first = await harness.start({ entry: 'serve' });
    const signed = await harness.sandbox.signReports(REPORTS);
    const ids = signed.map((s) => s.reportId);

    // The first message is at the receiver (kept, so accepted there: a receiver commits before it answers), its ACK held back.
    const inFlight = await harness.waitFor('a message at the receiver', () => receiver.received()[0]);
    const killedReport = signed.find((s) => s.studyId === studyOf(inFlight))!;
    expect(killedReport).toBeDefined();
    expect((await first.kill9()).signal).toBe('SIGKILL');
    expect(inFlight.answeredAt).toBeUndefined();
    // One message in flight per connection: the others never left.
    expect(receiver.received()).toHaveLength(1);
    // The control id was recorded before the send; the outcome is unknown to the database.
    const beforeRestart = harness.delivery(killedReport.reportId, 'hl7v2')!;
    expect(beforeRestart).toMatchObject({ state: 'in_progress', hl7ControlId: inFlight.controlId, deliveredAt: null });

    receiver.delayAcksMs(ACK_DELAY_AFTER_RESTART_MS);
    const second = await harness.start({ entry: 'serve' });
    await harness.waitForDelivered(ids, harness.untilQueueStalls, 'hl7v2');
    await harness.waitForDelivered(ids);
    await second.kill9();

    // The killed report's message went again, under the same control id, and the receiver holds it once.
    const received = receiver.received();
    const ofKilled = received.filter((m) => studyOf(m) === killedReport.studyId);
    expect(ofKilled.length).toBeGreaterThanOrEqual(2);
    expect(new Set(ofKilled.map((m) => m.controlId))).toEqual(new Set([inFlight.controlId]));
    // Every study: exactly one control id for whatever was received about it; one accepted content per report.
    const controlIdsByStudy = new Map<string, Set<string>>();
    for (const m of received) controlIdsByStudy.set(studyOf(m), (controlIdsByStudy.get(studyOf(m)) ?? new Set()).add(m.controlId));
    expect([...controlIdsByStudy.keys()].sort()).toEqual(signed.map((s) => s.studyId).sort());
    for (const controlIds of controlIdsByStudy.values()) expect(controlIds.size).toBe(1);
    expect(receiver.acceptedContents()).toHaveLength(REPORTS);

    for (const { reportId, studyId } of signed) {
      const row = harness.delivery(reportId, 'hl7v2')!;
      expect(row.state).toBe('delivered');
      expect(row.hl7ControlId).toBe([...controlIdsByStudy.get(studyId)!][0]);
      expect(row.hl7AckControlId).toBeTruthy();
    }
    // The audit records every send of the killed report's message, each under the one control id.
    const sends = listAuditEvents(harness.readStore().db, killedReport.reportId).filter((e) => e.event === 'hl7_sent');
    expect(sends.length).toBe(ofKilled.length);
    expect(new Set(sends.map((e) => e.detail?.controlId))).toEqual(new Set([inFlight.controlId]));

    const copies = await countFhirCopies(harness.fhir.baseUrl, harness.sandbox, signed);
    expect({ duplicates: copies.duplicates, missing: copies.missing }).toEqual({ duplicates: 0, missing: 0 });
    expect(copies.totals.DiagnosticReport).toBe(REPORTS);
  });
});
