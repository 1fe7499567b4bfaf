import type { DiagnosticReport, DocumentReference, ImagingStudy, Patient, ServiceRequest } from '@medplum/fhirtypes';
import { afterEach, describe, expect, it } from 'vitest';
import { mapOrderToStudy } from '../src/orders/mapping/map-order-to-study.ts';
import { MRN_SYSTEM, orderOptions } from './fixtures/order-fixtures.ts';
import { seedFhirOrders, updateFhirResource } from './support/seed-fhir-orders.ts';
import { WORKER_IN_MAIN_THREAD } from './support/serve-test-settings.ts';
import { startTestEnv, type TestEnv } from './support/test-env.ts';

// Orders and the reports that come back, not which thread delivers them: the worker runs beside
// the server (WORKER_IN_MAIN_THREAD), sparing a delivery thread's start per test.
const ORDER_ENV = { ...WORKER_IN_MAIN_THREAD, ORDERS_ENABLED: 'true', ORDERS_POLL_INTERVAL_SECONDS: '3600', MRN_SYSTEM, FHIR_WEBHOOK_SECRET: 'order-hook-secret' };

async function sweepAndSettle(env: TestEnv): Promise<void> {
  await env.app.orders!.sweepNow();
  env.app.orders!.wake();
  await env.waitFor('orders to settle', async () => {
    const counts = (await env.app.store.orders.countByState());
    return counts.queued + counts.in_progress === 0;
  });
}

const apiStudies = (env: TestEnv) => [...Array.from(new Set(env.sandbox.allReportStates().map((r) => r.report.studyId)))];

describe('orders: FHIR -> Avara', () => {
  let env: TestEnv;
  afterEach(async () => env?.stop());

  it('turns 50 FHIR orders into 50 Avara studies with the mapped fields; sweeping again changes nothing', async () => {
    env = await startTestEnv({ env: ORDER_ENV });
    const seeded = await seedFhirOrders(env.fhir.baseUrl, Array.from({ length: 50 }, (_, i) => i + 1));
    await sweepAndSettle(env);
    expect((await env.app.store.orders.countByState())).toMatchObject({ synced: 50, failed: 0, dead: 0 });
    expect(env.sandbox.requestCounts()['POST /v1/autoScribe/studies']).toBe(50);
    for (const order of seeded) {
      const row = (await env.app.store.orders.get(order.imagingStudyId))!;
      const study = env.sandbox.getStudyState(row.avaraStudyId!);
      const [imagingStudy] = await env.fhirSearch<ImagingStudy>('ImagingStudy', { _id: order.imagingStudyId });
      const [serviceRequest] = await env.fhirSearch<ServiceRequest>('ServiceRequest', { _id: order.serviceRequestId });
      const [patient] = await env.fhirSearch<Patient>('Patient', { _id: order.patientId });
      const expected = mapOrderToStudy({ imagingStudy: imagingStudy!, serviceRequest: serviceRequest!, patient: patient!, priors: [] }, orderOptions());
      expect(study).toMatchObject({ ...expected, isCancelled: false, studyReportStatus: 'unassigned' });
      expect(study.metadata).toEqual({ fhirServiceRequest: `ServiceRequest/${order.serviceRequestId}`, fhirImagingStudy: `ImagingStudy/${order.imagingStudyId}`, accessionNumber: `ACC-${5000 + order.n}` });
      expect(study.priorReports).toBeUndefined();
    }
    env.sandbox.resetCounts();
    await sweepAndSettle(env);
    await sweepAndSettle(env);
    const counts = env.sandbox.requestCounts();
    expect(counts['POST /v1/autoScribe/studies'] ?? 0).toBe(0);
    expect(counts['PATCH /v1/autoScribe/studies/{studyId}'] ?? 0).toBe(0);
    expect(env.sandbox.allReportStates()).toHaveLength(0);
    expect(apiStudies(env)).toHaveLength(0);
  });

  it('sends a priority change, a demographic correction, a revoke and a reactivation as exactly one PATCH, PATCH, cancel and uncancel', async () => {
    env = await startTestEnv({ env: ORDER_ENV });
    const [order] = await seedFhirOrders(env.fhir.baseUrl, [8]);
    await sweepAndSettle(env);
    const studyId = (await env.app.store.orders.get(order!.imagingStudyId))!.avaraStudyId!;
    const study = env.sandbox.getStudyState(studyId);
    const step = async (type: string, id: string, edit: (r: any) => void) => {
      env.sandbox.resetCounts();
      await updateFhirResource(env.fhir.baseUrl, type, id, edit);
      await sweepAndSettle(env);
      return Object.fromEntries(Object.entries(env.sandbox.requestCounts()).filter(([route]) => !route.startsWith('GET')));
    };
    expect(await step('ServiceRequest', order!.serviceRequestId, (sr: ServiceRequest) => (sr.priority = 'stat'))).toEqual({ 'PATCH /v1/autoScribe/studies/{studyId}': 1 });
    expect(study.severity).toBe('stat');
    expect(await step('Patient', order!.patientId, (p: Patient) => (p.name = [{ text: 'Corrected Name' }]))).toEqual({ 'PATCH /v1/autoScribe/studies/{studyId}': 1 });
    expect(study.reportMetadata.patientName).toBe('Corrected Name');
    expect(await step('ServiceRequest', order!.serviceRequestId, (sr: ServiceRequest) => (sr.status = 'revoked'))).toEqual({ 'POST /v1/autoScribe/studies/cancel': 1 });
    expect(study.isCancelled).toBe(true);
    expect(await step('ServiceRequest', order!.serviceRequestId, (sr: ServiceRequest) => (sr.status = 'active'))).toEqual({ 'POST /v1/autoScribe/studies/uncancel': 1 });
    expect(study.isCancelled).toBe(false);
    const events = (await env.app.store.audit.ofOrder(order!.imagingStudyId)).map((e) => e.event);
    expect(events.filter((e) => e.startsWith('order_study_'))).toEqual(['order_study_created', 'order_study_updated', 'order_study_updated', 'order_study_cancelled', 'order_study_uncancelled']);
  });

  it('closes the loop: the signed report lands on the same chart with basedOn the order', async () => {
    env = await startTestEnv({ env: ORDER_ENV });
    env.sandbox.setAutoSign({ delayMs: 10 });
    const [order] = await seedFhirOrders(env.fhir.baseUrl, [21]);
    await sweepAndSettle(env);
    const report = await env.waitFor('the signed report', () => env.sandbox.allReportStates()[0]);
    await env.waitForDelivery(report.report.reportId, 'delivered');
    const reports = await env.fhirSearch<DiagnosticReport>('DiagnosticReport');
    expect(reports).toHaveLength(1);
    expect(reports[0]!.basedOn).toEqual([{ reference: `ServiceRequest/${order!.serviceRequestId}` }]);
    expect(reports[0]!.subject?.reference).toBe(`Patient/${order!.patientId}`);
    expect(await env.fhirSearch('Patient')).toHaveLength(1);
    expect(await env.fhirSearch('ImagingStudy')).toHaveLength(1);
  });

  it('the signed report keeps the order\'s own accession identifier and the EHR study\'s time, not Avara\'s copies', async () => {
    env = await startTestEnv({ env: { ...ORDER_ENV, STUDY_TIME_ZONE: 'America/Chicago' } });
    env.sandbox.setAutoSign({ delayMs: 10 });
    const [order] = await seedFhirOrders(env.fhir.baseUrl, [22]);
    const accession = { type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'ACSN' }] }, system: 'urn:oid:2.16.840.1.113883.3.999.5', value: 'ACC-5022' };
    await updateFhirResource(env.fhir.baseUrl, 'ServiceRequest', order!.serviceRequestId, (sr: ServiceRequest) => (sr.identifier = [accession]));
    // Seconds and an offset Avara's studyDate/studyTime cannot carry.
    await updateFhirResource(env.fhir.baseUrl, 'ImagingStudy', order!.imagingStudyId, (is: ImagingStudy) => (is.started = '2026-11-20T03:15:37-06:00'));
    await sweepAndSettle(env);
    const report = await env.waitFor('the signed report', () => env.sandbox.allReportStates()[0]);
    await env.waitForDelivery(report.report.reportId, 'delivered');

    const [diagnosticReport] = await env.fhirSearch<DiagnosticReport>('DiagnosticReport');
    const accessions = diagnosticReport!.identifier!.filter((i) => i.type?.coding?.some((c) => c.code === 'ACSN'));
    expect(accessions).toEqual([accession]);
    expect(diagnosticReport!.effectiveDateTime).toBe('2026-11-20T03:15:37-06:00');
    const [document] = await env.fhirSearch<DocumentReference>('DocumentReference');
    expect(document!.context?.period?.start).toBe('2026-11-20T03:15:37-06:00');
    expect(await env.fhirSearch('ImagingStudy')).toHaveLength(1);
  });

  it('records a clear per-order error for bad FHIR data and syncs the other orders', async () => {
    env = await startTestEnv({ env: ORDER_ENV });
    const seeded = await seedFhirOrders(env.fhir.baseUrl, [1, 2, 3, 4], (n, r) => {
      if (n === 1) (r.is as ImagingStudy).identifier = [];
      if (n === 2) (r.patient as Patient).identifier = [];
      if (n === 3) (r.is as ImagingStudy).basedOn = [{ reference: 'ServiceRequest/does-not-exist' }];
    });
    await sweepAndSettle(env);
    const code = (i: number) => env.app.store.orders.get(seeded[i]!.imagingStudyId);
    expect((await Promise.all([code(0), code(1), code(2), code(3)])).map((o) => [o?.state, o?.lastErrorCode])).toEqual([
      ['dead', 'order_no_study_uid'], ['dead', 'order_no_mrn'], ['dead', 'order_no_service_request'], ['synced', null],
    ]);
    const dead = (await env.app.store.audit.ofOrder(seeded[1]!.imagingStudyId)).find((e) => e.event === 'order_dead');
    expect(dead?.detail).toMatchObject({ code: 'order_no_mrn', message: 'Patient has no identifier with MRN_SYSTEM' });
    expect(env.sandbox.requestCounts()['POST /v1/autoScribe/studies']).toBe(1);
  });

  it('creates the viewer study too when VIEWER_STUDIES=true, once', async () => {
    env = await startTestEnv({ env: { ...ORDER_ENV, VIEWER_STUDIES: 'true' } });
    const [order] = await seedFhirOrders(env.fhir.baseUrl, [5]);
    await sweepAndSettle(env);
    await updateFhirResource(env.fhir.baseUrl, 'ServiceRequest', order!.serviceRequestId, (sr: ServiceRequest) => (sr.priority = 'routine'));
    await sweepAndSettle(env);
    const row = (await env.app.store.orders.get(order!.imagingStudyId))!;
    const viewer = env.sandbox.getViewerStudyByUid(row.studyInstanceUid!);
    expect(viewer).toMatchObject({ studyId: row.viewerStudyId, severity: 'high', studyDescription: 'Chest CT', metadata: { fhirServiceRequest: `ServiceRequest/${order!.serviceRequestId}` } });
    expect(env.sandbox.requestCounts()['POST /v1/viewer/studies']).toBe(1);
  });

  it('POST /webhooks/fhir: 401 without the secret, and with it an immediate sweep', async () => {
    env = await startTestEnv({ env: ORDER_ENV });
    const post = (headers: Record<string, string>) => fetch(`${env.app.url}/webhooks/fhir`, { method: 'POST', headers: { 'content-type': 'application/fhir+json', ...headers }, body: '{}' });
    expect((await post({ 'x-webhook-secret': 'wrong' })).status).toBe(401);
    expect((await post({})).status).toBe(401);
    const [order] = await seedFhirOrders(env.fhir.baseUrl, [6]);
    expect((await post({ authorization: 'Bearer order-hook-secret' })).status).toBe(202);
    await env.waitFor('the order to sync', async () => (await env.app.store.orders.get(order!.imagingStudyId))?.state === 'synced');
  });

  it('POST /webhooks/fhir answers 503 when no secret is configured', async () => {
    env = await startTestEnv({ env: { ...WORKER_IN_MAIN_THREAD, ORDERS_ENABLED: 'true' } });
    expect((await fetch(`${env.app.url}/webhooks/fhir`, { method: 'POST', headers: { 'x-webhook-secret': 'x' } })).status).toBe(503);
  });
});
