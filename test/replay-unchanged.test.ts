import type { Bundle, DiagnosticReport } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { startMllpReceiver } from '../src/standins/mllp-receiver/start-mllp-receiver.ts';
import { getDelivery } from '../src/store/deliveries.ts';
import { TEST_MRN_SYSTEM, WORKER_IN_MAIN_THREAD } from './support/serve-test-settings.ts';
import { startTestEnv, type TestEnv } from './support/test-env.ts';
import { stopAfterEach } from './support/stop-after-each.ts';
import { sqliteOf } from './support/sqlite-of.ts';

const SID = 'https://api.avarasoftware.com/fhir/sid';

/** Replays and waits until the report's delivered events number `count` (each replay adds one). */
async function replay(env: TestEnv, reportId: string, count: number, target?: string): Promise<void> {
  expect((await env.app.store.deliveries.replay(reportId, Date.now(), { by: 'test', operator: 'test' }, target))).toBe('requeued');
  env.app.wake();
  await env.waitFor(`delivered event ${count} of ${reportId}`, async () => (await deliveredEvents(env, reportId, target)).length === count && (await env.app.store.deliveries.get(reportId, target))?.state === 'delivered');
}

async function deliveredEvents(env: TestEnv, reportId: string, target = 'fhir') {
  return (await env.app.store.audit.ofReport(reportId)).filter((e) => e.event === 'delivered' && (e.detail as { target?: string } | null)?.target === target);
}

/** Every version the FHIR store holds of the study's DiagnosticReport, read from its `_history`. */
async function reportVersions(env: TestEnv, studyId: string): Promise<string[]> {
  const [report] = await env.fhirSearch<DiagnosticReport>('DiagnosticReport', { identifier: `${SID}/study-id|${studyId}` });
  const history = (await (await fetch(`${env.fhir.baseUrl}/DiagnosticReport/${report!.id}/_history`, { headers: { accept: 'application/fhir+json' } })).json()) as Bundle;
  return (history.entry ?? []).map((e) => e.resource?.meta?.versionId ?? '?').sort();
}

// What a replay writes, not which thread runs it: the worker runs beside the server (WORKER_IN_MAIN_THREAD).
describe('a replay of unchanged content writes no new EHR version (issue 18, item 7); HL7 is sent again under its control id (hl7v2-mapping.md)', () => {
  const stopLater = stopAfterEach();

  it('fhir: no new EHR version and the same hash for unchanged content; a changed report text writes one new version', async () => {
    const env = stopLater(await startTestEnv({ env: { ...WORKER_IN_MAIN_THREAD, PATIENT_MODE: 'create' } }));
    const [signed] = await env.sandbox.signReports(1);
    const first = await env.waitForDelivery(signed!.reportId, 'delivered');
    const versions = await reportVersions(env, signed!.studyId);
    expect(versions).toHaveLength(1);

    // The first delivery created the Patient; the replays find it. The hash must not see that.
    for (const count of [2, 3]) {
      await replay(env, signed!.reportId, count);
      const again = (await env.app.store.deliveries.get(signed!.reportId))!;
      expect(again.contentHash).toBe(first.contentHash);
      expect(again.fhirRefs).toEqual(first.fhirRefs);
      expect(await reportVersions(env, signed!.studyId)).toEqual(versions);
      expect((await deliveredEvents(env, signed!.reportId)).at(-1)!.detail).toMatchObject({ unchanged: true, contentHash: first.contentHash });
    }
    expect(env.fhir.requests().filter((r) => r.method === 'POST' && r.path.replace(/\/+$/, '') === new URL(env.fhir.baseUrl).pathname.replace(/\/+$/, ''))).toHaveLength(1);

    env.sandbox.getReportState(signed!.reportId).plainText = 'FINDINGS: Corrected.\n\nIMPRESSION: A changed impression.';
    await replay(env, signed!.reportId, 4);
    const changed = (await env.app.store.deliveries.get(signed!.reportId))!;
    expect(changed.contentHash).not.toBe(first.contentHash);
    expect(await reportVersions(env, signed!.studyId)).toHaveLength(2);
    expect(changed.fhirRefs?.DiagnosticReport).not.toBe(first.fhirRefs?.DiagnosticReport);
    expect((await deliveredEvents(env, signed!.reportId)).at(-1)!.detail).not.toHaveProperty('unchanged');
  });

  it('hl7v2: an unchanged replay sends the message again under the same control id (an engine that lost it gets it back); control id and hash stay', async () => {
    const receiver = stopLater(await startMllpReceiver({ port: 0, ack: 'AA' }));
    const env = stopLater(await startTestEnv({ env: { ...WORKER_IN_MAIN_THREAD, DELIVERY_TARGETS: 'hl7v2', HL7_HOST: receiver.address.host, HL7_PORT: String(receiver.address.port) } }));
    const [signed] = await env.sandbox.signReports(1);
    await env.waitFor('hl7v2 delivery', () => getDelivery(sqliteOf(env.app).db, signed!.reportId, 'hl7v2')?.state === 'delivered');
    const first = (await env.app.store.deliveries.get(signed!.reportId, 'hl7v2'))!;
    expect(receiver.received()).toHaveLength(1);

    await replay(env, signed!.reportId, 2, 'hl7v2');
    const again = (await env.app.store.deliveries.get(signed!.reportId, 'hl7v2'))!;
    expect(receiver.received()).toHaveLength(2);
    expect(receiver.received().map((m) => m.controlId)).toEqual([first.hl7ControlId, first.hl7ControlId]);
    // A receiver that drops repeated control ids keeps one.
    expect(receiver.acceptedContents()).toHaveLength(1);
    expect([again.contentHash, again.hl7ControlId]).toEqual([first.contentHash, first.hl7ControlId]);
    expect((await deliveredEvents(env, signed!.reportId, 'hl7v2')).at(-1)!.detail).not.toHaveProperty('unchanged');

    env.sandbox.getReportState(signed!.reportId).plainText = 'IMPRESSION: A changed impression.';
    await replay(env, signed!.reportId, 3, 'hl7v2');
    expect(receiver.received()).toHaveLength(3);
    expect((await env.app.store.deliveries.get(signed!.reportId, 'hl7v2'))!.contentHash).not.toBe(first.contentHash);
  });
  it('fhir-documents: a replay sends nothing and keeps the recorded content hash', async () => {
    const env = stopLater(await startTestEnv({ env: { ...WORKER_IN_MAIN_THREAD, DELIVERY_TARGETS: 'fhir-documents' }, fhir: { ehr: 'documents' } }));
    const [signed] = await env.sandbox.signReports(1, { sendWebhooks: false });
    const study = env.sandbox.getStudyState(signed!.studyId);
    await env.fhir.seed({ resourceType: 'Patient', identifier: [{ system: TEST_MRN_SYSTEM, value: study.reportMetadata.mrn! }] });
    await env.sendReportDelivered(signed!);
    await env.waitFor('fhir-documents delivery', () => getDelivery(sqliteOf(env.app).db, signed!.reportId, 'fhir-documents')?.state === 'delivered');
    const first = (await env.app.store.deliveries.get(signed!.reportId, 'fhir-documents'))!;
    expect(first.contentHash).toMatch(/^[0-9a-f]{64}$/);
    const posts = () => env.fhir.requests().filter((r) => r.method === 'POST').length;
    const before = posts();
    await replay(env, signed!.reportId, 2, 'fhir-documents');
    expect((await env.app.store.deliveries.get(signed!.reportId, 'fhir-documents'))!.contentHash).toBe(first.contentHash);
    expect(posts()).toBe(before);
    expect((await deliveredEvents(env, signed!.reportId, 'fhir-documents')).at(-1)!.detail).toMatchObject({ unchanged: true, contentHash: first.contentHash });
  });
});
