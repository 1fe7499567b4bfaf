import type { DocumentReference } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getDelivery, type Delivery } from '../src/store/deliveries.ts';
import { sqliteOf } from './support/sqlite-of.ts';
import { TEST_MRN_SYSTEM, WORKER_IN_MAIN_THREAD } from './support/serve-test-settings.ts';
import { startTestEnv, type TestEnv } from './support/test-env.ts';

const TARGET = 'fhir-documents';
const REPORT_ID_SYSTEM = 'https://api.avarasoftware.com/fhir/sid/report-id';
const isDocumentPost = (method: string, path: string) => method === 'POST' && path.endsWith('/DocumentReference');

function row(env: TestEnv, reportId: string): Delivery | undefined {
  return getDelivery(sqliteOf(env.app).db, reportId, TARGET);
}

function settled(env: TestEnv, reportId: string, state: Delivery['state']): Promise<Delivery> {
  return env.waitFor(`${TARGET} delivery of ${reportId} ${state}`, () => {
    const current = row(env, reportId);
    return current?.state === state ? current : undefined;
  }, 20_000);
}

async function documentsOf(env: TestEnv, reportId: string): Promise<DocumentReference[]> {
  return env.fhirSearch<DocumentReference>('DocumentReference', { identifier: `${REPORT_ID_SYSTEM}|${reportId}` });
}

/** Signs a report without its webhook, registers its patient in the EHR (as the EHR would), then sends the webhook. */
async function signForKnownPatient(env: TestEnv, patient: { birthDate?: string } = {}): Promise<{ studyId: string; reportId: string; patient: string }> {
  const [signed] = await env.sandbox.signReports(1, { sendWebhooks: false });
  const study = env.sandbox.getStudyState(signed!.studyId);
  const seeded = await env.fhir.seed({ resourceType: 'Patient', identifier: [{ system: TEST_MRN_SYSTEM, value: study.reportMetadata.mrn! }], ...patient });
  await env.sendReportDelivered(signed!);
  return { ...signed!, patient: `Patient/${seeded.id}` };
}

// What the target writes and decides, not which thread runs it: the worker runs beside the server
// (WORKER_IN_MAIN_THREAD), sparing a delivery thread's start per block.
describe('fhir-documents target against an EHR that takes only DocumentReference creates', () => {
  let env: TestEnv;
  beforeAll(async () => {
    env = await startTestEnv({ env: { ...WORKER_IN_MAIN_THREAD, DELIVERY_TARGETS: TARGET, PATIENT_MODE: 'create', MAX_ATTEMPTS: '3' }, fhir: { ehr: 'documents' } });
  });
  afterAll(() => env?.stop());

  it('creates one DocumentReference on the found patient, and a duplicate webhook or a replay adds none', async () => {
    const signed = await signForKnownPatient(env);
    const delivered = await settled(env, signed.reportId, 'delivered');
    const [document, ...others] = await documentsOf(env, signed.reportId);
    expect(others).toEqual([]);
    expect(document!.subject?.reference).toBe(signed.patient);
    expect(document!.content).toHaveLength(1);
    expect(delivered.fhirRefs).toEqual({ Patient: signed.patient, DocumentReference: `DocumentReference/${document!.id}` });
    // PATIENT_MODE=create is ignored: this target never writes a Patient.
    expect(env.fhir.requests().filter((r) => r.method !== 'GET' && !isDocumentPost(r.method, r.path))).toEqual([]);

    await env.sendReportDelivered(signed);
    expect(await env.app.store.deliveries.replay(signed.reportId, Date.now(), { by: 'test', operator: 'test' }, TARGET)).toBe('requeued');
    env.app.wake();
    await settled(env, signed.reportId, 'delivered');
    expect(row(env, signed.reportId)!.fhirRefs?.DocumentReference).toBe(`DocumentReference/${document!.id}`);
    expect(await documentsOf(env, signed.reportId)).toHaveLength(1);
  });

  it('sends an addendum after its original, appending to the original document', async () => {
    const original = await signForKnownPatient(env);
    await settled(env, original.reportId, 'delivered');
    const [addendum] = await env.sandbox.signReports(1, { addendum: true, studyIds: [original.studyId] });
    await settled(env, addendum!.reportId, 'delivered');
    const [originalDocument] = await documentsOf(env, original.reportId);
    const [addendumDocument] = await documentsOf(env, addendum!.reportId);
    expect(addendumDocument!.relatesTo).toEqual([{ code: 'appends', target: { reference: `DocumentReference/${originalDocument!.id}` } }]);
    expect(addendumDocument!.subject?.reference).toBe(original.patient);
  });

  it('holds an addendum whose webhook came first until its original is delivered (signing order)', async () => {
    const [original] = await env.sandbox.signReports(1, { sendWebhooks: false });
    const [addendum] = await env.sandbox.signReports(1, { addendum: true, studyIds: [original!.studyId], sendWebhooks: false });
    const study = env.sandbox.getStudyState(original!.studyId);
    await env.fhir.seed({ resourceType: 'Patient', identifier: [{ system: TEST_MRN_SYSTEM, value: study.reportMetadata.mrn! }] });
    await env.sendReportDelivered(addendum!);
    await env.sendReportDelivered(original!);
    const addendumRow = await settled(env, addendum!.reportId, 'delivered');
    const originalRow = row(env, original!.reportId)!;
    expect(originalRow.state).toBe('delivered');
    expect(originalRow.deliveredAt!).toBeLessThanOrEqual(addendumRow.deliveredAt!);
    const [addendumDocument] = await documentsOf(env, addendum!.reportId);
    expect(addendumDocument!.relatesTo?.[0]?.target.reference).toBe(originalRow.fhirRefs!.DocumentReference);
  });

  it('waits for a patient the EHR does not know yet, then dead-letters patient_not_found after MAX_ATTEMPTS', async () => {
    const [signed] = await env.sandbox.signReports(1);
    const dead = await settled(env, signed!.reportId, 'dead');
    expect(dead).toMatchObject({ lastErrorCode: 'patient_not_found', attempts: 3 });
    expect(await documentsOf(env, signed!.reportId)).toEqual([]);
  });

  it('stops as patient_mismatch when the EHR patient has another birth date, writing nothing', async () => {
    const signed = await signForKnownPatient(env, { birthDate: '1901-01-01' });
    expect(await settled(env, signed.reportId, 'dead')).toMatchObject({ lastErrorCode: 'patient_mismatch' });
    expect(await documentsOf(env, signed.reportId)).toEqual([]);
  });

  it('after a POST committed but answered with a dropped connection, finds the document and sends no second', async () => {
    env.fhir.faults.commitThenDrop(1, { matcher: isDocumentPost });
    const signed = await signForKnownPatient(env);
    const delivered = await settled(env, signed.reportId, 'delivered');
    const documents = await documentsOf(env, signed.reportId);
    expect(documents).toHaveLength(1);
    expect(delivered.fhirRefs?.DocumentReference).toBe(`DocumentReference/${documents[0]!.id}`);
    expect(env.fhir.requests().filter((r) => isDocumentPost(r.method, r.path) && r.dropped)).toHaveLength(1);
  });
});

describe('fhir-documents target when the EHR cannot search DocumentReference by identifier', () => {
  let env: TestEnv;
  beforeAll(async () => {
    env = await startTestEnv({ env: { ...WORKER_IN_MAIN_THREAD, DELIVERY_TARGETS: TARGET, FHIR_DOCUMENT_IDENTIFIER_SEARCH: 'false', MAX_ATTEMPTS: '3' }, fhir: { ehr: 'documents' } });
  });
  afterAll(() => env?.stop());

  it('stops a POST whose answer was lost as dead write_outcome_unknown, never sending it again', async () => {
    env.fhir.faults.commitThenDrop(1, { matcher: isDocumentPost });
    const signed = await signForKnownPatient(env);
    expect(await settled(env, signed.reportId, 'dead')).toMatchObject({ lastErrorCode: 'write_outcome_unknown' });
    expect(await documentsOf(env, signed.reportId)).toHaveLength(1);
    expect(env.fhir.requests().filter((r) => isDocumentPost(r.method, r.path)).map((r) => r.dropped)).toEqual([true]);
  });
});

describe('fhir-documents target filing on an encounter (FHIR_DOCUMENT_ENCOUNTER=search)', () => {
  let env: TestEnv;
  beforeAll(async () => {
    env = await startTestEnv({ env: { ...WORKER_IN_MAIN_THREAD, DELIVERY_TARGETS: TARGET, FHIR_DOCUMENT_ENCOUNTER: 'search', FHIR_DOCUMENT_CONTENT: 'text', MAX_ATTEMPTS: '2' }, fhir: { ehr: 'documents' } });
  });
  afterAll(() => env?.stop());

  it('files the text on the one encounter covering the study date, and dead-letters encounter_not_found without one', async () => {
    const [signed] = await env.sandbox.signReports(1, { sendWebhooks: false });
    const study = env.sandbox.getStudyState(signed!.studyId);
    const patient = await env.fhir.seed({ resourceType: 'Patient', identifier: [{ system: TEST_MRN_SYSTEM, value: study.reportMetadata.mrn! }] });
    const day = study.reportMetadata.studyDate!;
    const encounter = await env.fhir.seed({ resourceType: 'Encounter', status: 'finished', class: { code: 'AMB' }, subject: { reference: `Patient/${patient.id}` }, period: { start: `${day}T08:00:00Z`, end: `${day}T18:00:00Z` } });
    await env.fhir.seed({ resourceType: 'Encounter', status: 'finished', class: { code: 'AMB' }, subject: { reference: `Patient/${patient.id}` }, period: { start: '2001-01-01', end: '2001-01-02' } });
    await env.sendReportDelivered(signed!);
    await settled(env, signed!.reportId, 'delivered');
    const [document] = await documentsOf(env, signed!.reportId);
    expect(document!.context?.encounter).toEqual([{ reference: `Encounter/${encounter.id}` }]);
    expect(document!.content.map((c) => c.attachment.contentType)).toEqual(['text/plain; charset=utf-8']);

    const [without] = await env.sandbox.signReports(1, { sendWebhooks: false });
    await env.fhir.seed({ resourceType: 'Patient', identifier: [{ system: TEST_MRN_SYSTEM, value: env.sandbox.getStudyState(without!.studyId).reportMetadata.mrn! }] });
    await env.sendReportDelivered(without!);
    expect(await settled(env, without!.reportId, 'dead')).toMatchObject({ lastErrorCode: 'encounter_not_found', attempts: 2 });
    expect(await documentsOf(env, without!.reportId)).toEqual([]);
  });
});
