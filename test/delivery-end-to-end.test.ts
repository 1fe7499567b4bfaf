import type { Binary, DiagnosticReport, DocumentReference, ImagingStudy, Patient, Practitioner } from '@medplum/fhirtypes';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startTestEnv, type TestEnv } from './support/test-env.ts';
import { usCoreErrors } from './support/validate-us-core.ts';

const SID = 'https://api.avarasoftware.com/fhir/sid';

describe('a signed report travels from Avara to the EHR', () => {
  let env: TestEnv;
  beforeEach(async () => {
    env = await startTestEnv();
  });
  afterEach(() => env.stop());

  it('writes Patient, Practitioner, ImagingStudy, DocumentReference and DiagnosticReport that FHIR search finds by identifier', async () => {
    const [signed] = await env.sandbox.signReports(1);
    const row = await env.waitForDelivery(signed!.reportId, 'delivered');
    const study = env.sandbox.getStudyState(signed!.studyId);

    const [report, ...extraReports] = await env.fhirSearch<DiagnosticReport>('DiagnosticReport', { identifier: `${SID}/study-id|${signed!.studyId}` });
    expect(extraReports).toHaveLength(0);
    expect(report!.status).toBe('final');
    expect(report!.identifier?.map((i) => i.value)).toContain(signed!.reportId);
    expect(row.fhirRefs?.DiagnosticReport).toBe(`DiagnosticReport/${report!.id}/_history/${report!.meta?.versionId}`);

    const [imaging] = await env.fhirSearch<ImagingStudy>('ImagingStudy', { identifier: `urn:dicom:uid|urn:oid:${study.studyInstanceUid}` });
    const [document] = await env.fhirSearch<DocumentReference>('DocumentReference', { identifier: `${SID}/report-id|${signed!.reportId}` });
    const patients = await env.fhirSearch<Patient>('Patient');
    expect(patients).toHaveLength(1);
    expect(await env.fhirSearch<Practitioner>('Practitioner')).toHaveLength(1);

    // References were rewritten from urn:uuid to the real ids, and they resolve.
    expect(report!.subject?.reference).toBe(`Patient/${patients[0]!.id}`);
    expect(report!.imagingStudy?.[0]?.reference).toBe(`ImagingStudy/${imaging!.id}`);
    expect(imaging!.subject.reference).toBe(`Patient/${patients[0]!.id}`);
    expect(document!.context?.related?.map((r) => r.reference)).toEqual(expect.arrayContaining([`DiagnosticReport/${report!.id}`, `ImagingStudy/${imaging!.id}`]));
    const practitionerRef = report!.resultsInterpreter?.[0]?.reference;
    expect(practitionerRef).toMatch(/^Practitioner\/[^/]+$/);
    expect((await fetch(`${env.fhir.baseUrl}/${practitionerRef}`)).status).toBe(200);

    // The PDF in FHIR is byte for byte the sandbox's PDF.
    const expected = Buffer.from(env.sandbox.pdfBytes(signed!.reportId));
    const pdfForm = report!.presentedForm?.find((a) => a.contentType === 'application/pdf');
    expect(Buffer.from(pdfForm!.data!, 'base64').equals(expected)).toBe(true);
    const docPdf = document!.content.find((c) => c.attachment.contentType === 'application/pdf');
    expect(Buffer.from(docPdf!.attachment.data!, 'base64').equals(expected)).toBe(true);

    await expectUsCoreConformance(env);
  });

  it('searches the EHR for a signer once, not on every delivery after its Practitioner is known', async () => {
    const delivered: string[] = [];
    for (let i = 0; i < 8; i++) {
      const [signed] = await env.sandbox.signReports(1);
      await env.waitForDelivery(signed!.reportId, 'delivered');
      delivered.push(signed!.reportId);
    }
    const signers = new Set(delivered.map((reportId) => env.sandbox.getReportState(reportId).report.userId));
    expect(signers.size).toBeLessThan(delivered.length); // the sandbox has fewer radiologists than that
    const practitionerSearches = env.fhir.requests().filter((r) => r.method === 'GET' && r.path.endsWith('/Practitioner'));
    expect(practitionerSearches.length).toBeLessThanOrEqual(signers.size);
    expect(await env.fhirSearch<Practitioner>('Practitioner')).toHaveLength(signers.size);
  });

  it('creates each resource once when the same webhook arrives three times', async () => {
    const [signed] = await env.sandbox.signReports(1);
    await env.sandbox.resendWebhook(signed!.webhookId);
    await env.sandbox.resendWebhook(signed!.webhookId);
    await env.waitForDelivery(signed!.reportId, 'delivered');
    expect(await env.fhirSearch('DiagnosticReport')).toHaveLength(1);
    expect(await env.fhirSearch('ImagingStudy')).toHaveLength(1);
    expect(await env.fhirSearch('Patient')).toHaveLength(1);
    expect(await env.fhirSearch('DocumentReference')).toHaveLength(1);
  });

  it('creates each resource once when one report comes through two different webhook ids', async () => {
    const [signed] = await env.sandbox.signReports(1, { sendWebhooks: false });
    const answers = await Promise.all([env.sendReportDelivered(signed!), env.sendReportDelivered(signed!)]);
    expect(answers.map((a) => a.status)).toEqual([200, 200]);
    await env.waitForDelivery(signed!.reportId, 'delivered');
    expect(await env.fhirSearch('DiagnosticReport')).toHaveLength(1);
    expect(await env.fhirSearch('ImagingStudy')).toHaveLength(1);
    expect(await env.fhirSearch('Patient')).toHaveLength(1);
    expect(await env.fhirSearch('DocumentReference')).toHaveLength(1);
  });

  it('replays a delivered report without creating any FHIR resource, with replayed and delivered in the audit', async () => {
    const [signed] = await env.sandbox.signReports(1);
    const first = await env.waitForDelivery(signed!.reportId, 'delivered');
    const counts = async () => Promise.all(['Patient', 'Practitioner', 'ImagingStudy', 'DocumentReference', 'DiagnosticReport'].map(async (t) => (await env.fhirSearch(t)).length));
    const before = await counts();
    expect(await env.app.store.deliveries.replay(signed!.reportId, Date.now(), { by: 'test', operator: 'test' })).toBe('requeued');
    env.app.wake();
    await env.waitFor('the replay to finish', async () => (await env.app.store.audit.ofReport(signed!.reportId)).filter((e) => e.event === 'delivered').length === 2);
    expect(await counts()).toEqual(before);
    const again = env.delivery(signed!.reportId)!;
    expect(again.state).toBe('delivered');
    expect(again.fhirRefs?.DiagnosticReport?.split('/_history')[0]).toBe(first.fhirRefs?.DiagnosticReport?.split('/_history')[0]);
    expect((await env.app.store.audit.ofReport(signed!.reportId)).map((e) => e.event)).toContain('replayed');
  });

  it('turns the DiagnosticReport into appended with both texts when an addendum is signed after delivery', async () => {
    const [original] = await env.sandbox.signReports(1);
    await env.waitForDelivery(original!.reportId, 'delivered');
    const [addendum] = await env.sandbox.signReports(1, { addendum: true, studyIds: [original!.studyId] });
    await env.waitForDelivery(addendum!.reportId, 'delivered');
    await expectAppendedStudy(env, original!.studyId, original!.reportId, addendum!.reportId);
  });

  it('ends with the same appended report when the addendum webhook arrives before the original one', async () => {
    const [original] = await env.sandbox.signReports(1, { sendWebhooks: false });
    const [addendum] = await env.sandbox.signReports(1, { addendum: true, studyIds: [original!.studyId] });
    await env.waitForDelivery(addendum!.reportId, 'delivered');
    await env.sendReportDelivered(original!);
    await env.waitForDelivery(original!.reportId, 'delivered');
    await expectAppendedStudy(env, original!.studyId, original!.reportId, addendum!.reportId);
  });
});

async function expectAppendedStudy(env: TestEnv, studyId: string, originalId: string, addendumId: string): Promise<void> {
  const reports = await env.fhirSearch<DiagnosticReport>('DiagnosticReport');
  expect(reports).toHaveLength(1);
  const report = reports[0]!;
  expect(report.identifier?.find((i) => i.system === `${SID}/study-id`)?.value).toBe(studyId);
  expect(report.status).toBe('appended');
  const text = Buffer.from(report.presentedForm!.find((a) => a.contentType?.startsWith('text/plain'))!.data!, 'base64').toString('utf8');
  expect(text).toMatch(/--- ADDENDUM \S+ ---/);
  const docs = await env.fhirSearch<DocumentReference>('DocumentReference');
  expect(docs).toHaveLength(2);
  const originalDoc = docs.find((d) => d.identifier?.[0]?.value === originalId)!;
  const addendumDoc = docs.find((d) => d.identifier?.[0]?.value === addendumId)!;
  expect(addendumDoc.relatesTo).toEqual([{ code: 'appends', target: { reference: `DocumentReference/${originalDoc.id}` } }]);
  expect(originalDoc.relatesTo).toBeUndefined();
  expect(await env.fhirSearch<Binary>('ImagingStudy')).toHaveLength(1);
  await expectUsCoreConformance(env);
}

// What the delivery left in the EHR, as the EHR stores it, meets the US Core profiles it claims.
async function expectUsCoreConformance(env: TestEnv): Promise<void> {
  const claimed = { Patient: 'us-core-patient', Practitioner: 'us-core-practitioner', DocumentReference: 'us-core-documentreference', DiagnosticReport: 'us-core-diagnosticreport-note' };
  for (const [type, profile] of Object.entries(claimed)) {
    const resources = await env.fhirSearch(type);
    expect(resources.length, type).toBeGreaterThan(0);
    for (const resource of resources) {
      expect(resource.meta?.profile, type).toEqual([`http://hl7.org/fhir/us/core/StructureDefinition/${profile}`]);
      expect(usCoreErrors(resource), `${type}/${resource.id}`).toEqual([]);
    }
  }
}
