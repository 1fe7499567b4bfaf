import type { DiagnosticReport, DocumentReference, Patient, Practitioner } from '@medplum/fhirtypes';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createEhrPatient } from './support/create-ehr-patient.ts';
import { WORKER_IN_MAIN_THREAD } from './support/serve-test-settings.ts';
import { startTestEnv, type TestEnv } from './support/test-env.ts';

const MRN_SYSTEM = 'urn:test:hospital:mrn';
// Which chart a delivery decides on, not which thread runs it: the worker runs beside the server
// (WORKER_IN_MAIN_THREAD), sparing a delivery thread's start per test.
const CREATE = { env: { ...WORKER_IN_MAIN_THREAD, PATIENT_MODE: 'create', MRN_SYSTEM, STUDY_TIME_ZONE: 'America/Chicago' } };
// Replays change state: they need a named operator even on loopback.
const OPERATOR_TOKEN = 'replay-operator-token-01';
const MATCH = { env: { ...WORKER_IN_MAIN_THREAD, PATIENT_MODE: 'match', MRN_SYSTEM, STUDY_TIME_ZONE: 'America/Chicago' } };

/** What the EHR holds of the study's documents: who they are on, and at which version. */
async function chartSnapshot(env: TestEnv) {
  const reports = await env.fhirSearch<DiagnosticReport>('DiagnosticReport');
  const documents = await env.fhirSearch<DocumentReference>('DocumentReference');
  return {
    reports: reports.map((r) => ({ id: r.id, version: r.meta?.versionId, subject: r.subject?.reference })),
    documents: documents.map((d) => ({ id: d.id, version: d.meta?.versionId, subject: d.subject?.reference })),
    patients: (await env.fhirSearch<Patient>('Patient')).map((p) => p.id).sort(),
  };
}

async function deliverOriginal(env: TestEnv) {
  const [original] = await env.sandbox.signReports(1, { sendWebhooks: false });
  await env.sendReportDelivered(original!);
  await env.waitForDelivery(original!.reportId, 'delivered');
  return original!;
}

async function signAddendum(env: TestEnv, studyId: string) {
  const [addendum] = await env.sandbox.signReports(1, { addendum: true, studyIds: [studyId], sendWebhooks: false });
  await env.sendReportDelivered(addendum!);
  return addendum!;
}

describe('a delivered report never moves to another chart', () => {
  let env: TestEnv;
  afterEach(() => env.stop());

  it('MRN corrected in Avara, then an addendum: dead with patient_changed_after_delivery, and nothing in the EHR moved', async () => {
    env = await startTestEnv(CREATE);
    const original = await deliverOriginal(env);
    const before = await chartSnapshot(env);
    expect(before.patients).toHaveLength(1);

    env.sandbox.getStudyState(original.studyId).reportMetadata.mrn = 'CORRECTED-0042';
    const addendum = await signAddendum(env, original.studyId);
    const row = await env.waitForDelivery(addendum.reportId, 'dead');

    expect(row.lastErrorCode).toBe('patient_changed_after_delivery');
    expect(row.attempts).toBe(1);
    expect(row.lastErrorMessage).toContain(`Patient/${before.patients[0]}`);
    expect(row.lastErrorMessage).not.toContain('CORRECTED-0042');
    expect(await chartSnapshot(env)).toEqual(before);
    expect(env.logText()).not.toContain('CORRECTED-0042');
  });

  it('MRN corrected to one of another EHR patient: dead, the first chart keeps its documents', async () => {
    env = await startTestEnv(CREATE);
    const original = await deliverOriginal(env);
    const study = env.sandbox.getStudyState(original.studyId);
    const other = await createEhrPatient(env, { identifier: [{ system: MRN_SYSTEM, value: 'OTHER-77' }], birthDate: study.reportMetadata.dateOfBirth });
    const before = await chartSnapshot(env);

    study.reportMetadata.mrn = 'OTHER-77';
    const addendum = await signAddendum(env, original.studyId);
    const row = await env.waitForDelivery(addendum.reportId, 'dead');

    expect(row.lastErrorCode).toBe('patient_changed_after_delivery');
    expect(row.lastErrorMessage).toContain(`Patient/${other.id}`);
    expect(await chartSnapshot(env)).toEqual(before);
  });

  it('a replay of the delivered report after the correction is refused the same way', async () => {
    env = await startTestEnv({ env: { ...CREATE.env, ADMIN_TOKENS: `ops:${OPERATOR_TOKEN}` } });
    const original = await deliverOriginal(env);
    const before = await chartSnapshot(env);
    env.sandbox.getStudyState(original.studyId).reportMetadata.mrn = 'CORRECTED-0042';

    const replay = await fetch(`${env.app.url}/api/deliveries/${original.reportId}/replay`, { method: 'POST', headers: { authorization: `Bearer ${OPERATOR_TOKEN}` } });
    expect(replay.status).toBe(202);
    const row = await env.waitForDelivery(original.reportId, 'dead');
    expect(row.lastErrorCode).toBe('patient_changed_after_delivery');
    expect(await chartSnapshot(env)).toEqual(before);
  });

  it('the MRN corrected on the same chart in the EHR too: the addendum is delivered onto that chart', async () => {
    env = await startTestEnv(MATCH);
    const [original] = await env.sandbox.signReports(1, { sendWebhooks: false });
    const study = env.sandbox.getStudyState(original!.studyId);
    const patient = await createEhrPatient(env, { identifier: [{ system: MRN_SYSTEM, value: study.reportMetadata.mrn! }], birthDate: study.reportMetadata.dateOfBirth });
    await env.sendReportDelivered(original!);
    const delivered = await env.waitForDelivery(original!.reportId, 'delivered');
    expect(delivered.fhirRefs?.Patient).toBe(`Patient/${patient.id}`);

    study.reportMetadata.mrn = 'CORRECTED-0042';
    await fetch(`${env.fhir.baseUrl}/Patient/${patient.id}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/fhir+json' },
      body: JSON.stringify({ ...patient, identifier: [{ system: MRN_SYSTEM, value: 'CORRECTED-0042' }] }),
    });
    const addendum = await signAddendum(env, original!.studyId);
    await env.waitForDelivery(addendum.reportId, 'delivered');
    const { reports, documents } = await chartSnapshot(env);
    expect(reports.map((r) => r.subject)).toEqual([`Patient/${patient.id}`]);
    expect(documents.map((d) => d.subject)).toEqual([`Patient/${patient.id}`, `Patient/${patient.id}`]);
  });

  it('a delivery recorded before the chart was kept with it is checked against its DiagnosticReport in the EHR', async () => {
    env = await startTestEnv(MATCH);
    const [original] = await env.sandbox.signReports(1, { sendWebhooks: false });
    const study = env.sandbox.getStudyState(original!.studyId);
    await createEhrPatient(env, { identifier: [{ system: MRN_SYSTEM, value: study.reportMetadata.mrn! }], birthDate: study.reportMetadata.dateOfBirth });
    await createEhrPatient(env, { identifier: [{ system: MRN_SYSTEM, value: 'OTHER-77' }], birthDate: study.reportMetadata.dateOfBirth });
    await env.sendReportDelivered(original!);
    await env.waitForDelivery(original!.reportId, 'delivered');
    // As an older release recorded it: no Patient among the references.
    const db = new Database(join(env.dir, 'state.db'));
    db.prepare(`update deliveries set fhir_refs = json_remove(fhir_refs, '$.Patient') where report_id = ?`).run(original!.reportId);
    db.close();
    const before = await chartSnapshot(env);

    study.reportMetadata.mrn = 'OTHER-77';
    const addendum = await signAddendum(env, original!.studyId);
    const row = await env.waitForDelivery(addendum.reportId, 'dead');
    expect(row.lastErrorCode).toBe('patient_changed_after_delivery');
    expect(await chartSnapshot(env)).toEqual(before);
  });
});

describe('the signing radiologist', () => {
  let env: TestEnv;
  afterEach(() => env.stop());

  it('carries the NPI of the user record when the signer is also the study assignee', async () => {
    env = await startTestEnv(CREATE);
    const original = await deliverOriginal(env);
    const study = env.sandbox.getStudyState(original.studyId);
    const signerId = env.sandbox.getReportState(original.reportId).report.userId;
    expect(study.assignedTo?.userId).toBe(signerId);
    const user = (await (await fetch(`${env.sandbox.baseUrl}/v1/autoScribe/users/${signerId}`, {
      headers: { authorization: `Bearer ${env.sandbox.apiKey}` },
    })).json()) as { npiNumber?: string; lastName?: string };
    expect(user.npiNumber).toMatch(/^\d{10}$/);

    const [practitioner] = await env.fhirSearch<Practitioner>('Practitioner');
    expect(practitioner!.identifier).toContainEqual({ system: 'http://hl7.org/fhir/sid/us-npi', value: user.npiNumber });
    expect(practitioner!.name?.[0]?.family).toBe(study.assignedTo?.lastName ?? user.lastName);
  });
});
