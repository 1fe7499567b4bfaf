import type { DiagnosticReport } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { startMllpReceiver, type MllpReceiver } from '../src/standins/mllp-receiver/start-mllp-receiver.ts';
import { sqliteOf } from './support/sqlite-of.ts';
import { getDelivery } from '../src/store/deliveries.ts';
import { WORKER_IN_MAIN_THREAD } from './support/serve-test-settings.ts';
import { startTestEnv, type TestEnv } from './support/test-env.ts';
import { stopAfterEach } from './support/stop-after-each.ts';
import { sleep } from './support/wait-for.ts';

const CANARY = 'Canary-Ovuvuevuevue Osas';

async function start(receiver: MllpReceiver, extra: Record<string, string> = {}): Promise<TestEnv> {
  return startTestEnv({
    env: {
      ...WORKER_IN_MAIN_THREAD,
      DELIVERY_TARGETS: 'fhir,hl7v2',
      HL7_HOST: receiver.address.host,
      HL7_PORT: String(receiver.address.port),
      HL7_ACK_TIMEOUT_SECONDS: '1',
      HL7_RECEIVING_APPLICATION: 'RIS',
      HL7_MRN_ASSIGNING_AUTHORITY: 'HOSP',
      ...extra,
    },
  });
}

const hl7Row = (env: TestEnv, reportId: string) => getDelivery(sqliteOf(env.app).db, reportId, 'hl7v2');

// What each target is sent and records, not which thread sends it: the worker runs beside the
// server (WORKER_IN_MAIN_THREAD); serve children deliver HL7 from the thread in hl7v2-crash,
// hl7v2-both-targets-load, hl7v2-tls-serve and hl7v2-phi-canary-serve.
describe('delivery targets: fhir and hl7v2 side by side', () => {
  const stopLater = stopAfterEach();

  it('delivers every report to both targets, each exactly once, with the control id and ACK recorded', async () => {
    const receiver = stopLater(await startMllpReceiver({ port: 0, ack: 'AA' }));
    const env = stopLater(await start(receiver));
    const signed = await env.sandbox.signReports(6);
    for (const { reportId } of signed) {
      await env.waitForDelivery(reportId, 'delivered');
      await env.waitFor(`hl7v2 delivery of ${reportId}`, () => hl7Row(env, reportId)?.state === 'delivered', env.untilQueueStalls);
    }
    expect(await env.fhirSearch<DiagnosticReport>('DiagnosticReport')).toHaveLength(6);
    expect(receiver.acceptedContents()).toHaveLength(6);
    expect(receiver.received()).toHaveLength(6);
    for (const { reportId } of signed) {
      const row = hl7Row(env, reportId)!;
      expect(row.hl7ControlId).toMatch(/^.{1,20}$/);
      expect(receiver.acceptedContents()).toContain(row.hl7ControlId);
      expect(row.hl7AckControlId).toBeTruthy();
    }
    const api = await (await fetch(`${env.app.url}/api/deliveries?target=hl7v2`)).json() as { items: { target: string; hl7: { controlId: string } }[] };
    expect(api.items).toHaveLength(6);
    expect(api.items.every((item) => item.target === 'hl7v2' && item.hl7.controlId)).toBe(true);
    const message = receiver.received()[0]!.text;
    expect(message).toMatch(/^MSH\|\^~\\&\|AVARA\|\|RIS\|/);
    expect(message).toContain('^^^HOSP^MR');
  });

  it('an addendum goes out as a new message (result status C) only after the original was accepted', async () => {
    const receiver = stopLater(await startMllpReceiver({ port: 0, ack: 'AA' }));
    const env = stopLater(await start(receiver));
    const [original] = await env.sandbox.signReports(1);
    await env.waitFor('the original at the receiver', () => hl7Row(env, original!.reportId)?.state === 'delivered');
    const [addendum] = await env.sandbox.signReports(1, { addendum: true, studyIds: [original!.studyId] });
    await env.waitFor('the addendum at the receiver', () => hl7Row(env, addendum!.reportId)?.state === 'delivered');
    const [first, second] = receiver.received();
    expect(second!.controlId).not.toBe(first!.controlId);
    expect(second!.text).toMatch(/\rOBR\|(?:[^|\r]*\|){24}C/);
    expect(second!.text).toContain('--- ADDENDUM');
  });

  it('sends nothing for a report whose study content this target already accepted (original delivered after its addendum was signed)', async () => {
    const receiver = stopLater(await startMllpReceiver({ port: 0, ack: 'AA' }));
    const env = stopLater(await start(receiver));
    const [original] = await env.sandbox.signReports(1, { sendWebhooks: false });
    await env.sandbox.signReports(1, { addendum: true, studyIds: [original!.studyId], sendWebhooks: false });
    const addendum = env.sandbox.allReportStates().find((r) => r.report.studyId === original!.studyId && r.report.isAddendum)!.report;
    await env.sendReportDelivered({ studyId: original!.studyId, reportId: addendum.reportId });
    await env.sendReportDelivered(original!);
    await env.waitFor('both hl7v2 deliveries', () => hl7Row(env, original!.reportId)?.state === 'delivered' && hl7Row(env, addendum.reportId)?.state === 'delivered');
    // The original leaves first (signing order) and already carries the addendum: one message.
    expect(receiver.received()).toHaveLength(1);
    expect(hl7Row(env, addendum.reportId)!.hl7ControlId).toBe(hl7Row(env, original!.reportId)!.hl7ControlId);
  });

  it('AE: dead as hl7_rejected, the receiver\'s text kept for operators and never logged', async () => {
    const receiver = stopLater(await startMllpReceiver({ port: 0, ack: 'AE', errorText: `Unknown patient ${CANARY}` }));
    const env = stopLater(await start(receiver));
    const [signed] = await env.sandbox.signReports(1);
    await env.waitFor('the rejection', () => hl7Row(env, signed!.reportId)?.state === 'dead');
    const row = hl7Row(env, signed!.reportId)!;
    expect(row.lastErrorCode).toBe('hl7_rejected');
    expect(row.rejectionText).toContain(CANARY);
    await env.waitForDelivery(signed!.reportId, 'delivered'); // the FHIR target is not held back
    const detail = await (await fetch(`${env.app.url}/api/deliveries/${signed!.reportId}?target=hl7v2`)).json() as { rejection: string; audit: { detail: unknown }[] };
    expect(detail.rejection).toContain(CANARY);
    expect(JSON.stringify(detail.audit)).not.toContain(CANARY);
    expect(JSON.stringify((await env.app.store.audit.ofReport(signed!.reportId)))).not.toContain(CANARY);
    expect(env.logText()).not.toContain(CANARY);
  });

  it('AR: waits without spending attempts under the same control id, then is accepted', async () => {
    const receiver = stopLater(await startMllpReceiver({ port: 0, ack: 'AR' }));
    const env = stopLater(await start(receiver));
    const [signed] = await env.sandbox.signReports(1);
    await env.waitFor('two refusals', () => receiver.received().length >= 2);
    receiver.setAck('AA');
    await env.waitFor('accepted', () => hl7Row(env, signed!.reportId)?.state === 'delivered', env.untilQueueStalls);
    // Only the accepted attempt counts: the refusals gave theirs back.
    expect(hl7Row(env, signed!.reportId)!.attempts).toBe(1);
    expect((await env.app.store.audit.ofReport(signed!.reportId)).filter((e) => e.event === 'attempt_failed')).toHaveLength(0);
    expect(new Set(receiver.received().map((m) => m.controlId)).size).toBe(1);
    expect(receiver.acceptedContents()).toHaveLength(1);
  });

  it('no ACK: an attempt is spent and the same control id is sent again, accepted once', async () => {
    const receiver = stopLater(await startMllpReceiver({ port: 0, ack: 'none' }));
    const env = stopLater(await start(receiver));
    const [signed] = await env.sandbox.signReports(1);
    await env.waitFor('a failed attempt', () => hl7Row(env, signed!.reportId)?.lastErrorCode === 'hl7_no_ack');
    receiver.setAck('AA');
    await env.waitFor('accepted', () => hl7Row(env, signed!.reportId)?.state === 'delivered', env.untilQueueStalls);
    const sent = receiver.received();
    expect(sent.length).toBeGreaterThanOrEqual(2);
    expect(new Set(sent.map((m) => m.controlId)).size).toBe(1);
    expect(hl7Row(env, signed!.reportId)!.attempts).toBeGreaterThanOrEqual(2);
    const resends = (await env.app.store.audit.ofReport(signed!.reportId)).filter((e) => e.event === 'hl7_sent');
    expect(resends.length).toBe(sent.length);
  });

  it('a receiver that is down delays only its own target: FHIR deliveries finish, HL7 catches up after, no attempt spent', async () => {
    const probe = await startMllpReceiver({ port: 0, ack: 'AA' });
    const { host, port } = probe.address;
    await probe.stop();
    const env = stopLater(await startTestEnv({ env: { ...WORKER_IN_MAIN_THREAD, DELIVERY_TARGETS: 'fhir,hl7v2', HL7_HOST: host, HL7_PORT: String(port), HL7_ACK_TIMEOUT_SECONDS: '1' } }));
    const signed = await env.sandbox.signReports(4);
    for (const { reportId } of signed) await env.waitForDelivery(reportId, 'delivered');
    await sleep(300);
    for (const { reportId } of signed) expect(hl7Row(env, reportId)).toMatchObject({ state: expect.stringMatching(/^(queued|in_progress)$/), deliveredAt: null, lastErrorCode: null });
    const receiver = stopLater(await startMllpReceiver({ host, port, ack: 'AA' }));
    for (const { reportId } of signed) {
      await env.waitFor(`hl7v2 delivery of ${reportId}`, () => hl7Row(env, reportId)?.state === 'delivered', env.untilQueueStalls);
    }
    expect(receiver.acceptedContents()).toHaveLength(4);
    for (const { reportId } of signed) expect((await env.app.store.audit.ofReport(reportId)).filter((e) => e.event === 'attempt_failed')).toHaveLength(0);
  });
});
