import type { DiagnosticReport, Patient } from '@medplum/fhirtypes';
import { afterEach, describe, expect, it } from 'vitest';
import { createEhrPatient } from './support/create-ehr-patient.ts';
import { WORKER_IN_MAIN_THREAD } from './support/serve-test-settings.ts';
import { startTestEnv, type TestEnv } from './support/test-env.ts';

const MRN_SYSTEM = 'urn:avara-fhir-sync:mrn';

// Which chart a delivery decides on, not which thread runs it: the worker runs beside the server
// (WORKER_IN_MAIN_THREAD), sparing a delivery thread's start per test.
describe('patient safety: never guess a chart', () => {
  let env: TestEnv;
  afterEach(() => env.stop());

  it('dead-letters with patient_mismatch and writes no DiagnosticReport when the EHR patient with that MRN has another birth date', async () => {
    env = await startTestEnv({ env: WORKER_IN_MAIN_THREAD });
    const [signed] = await env.sandbox.signReports(1, { sendWebhooks: false });
    const study = env.sandbox.getStudyState(signed!.studyId);
    study.reportMetadata.dateOfBirth = '1950-01-01';
    await createEhrPatient(env, { identifier: [{ system: MRN_SYSTEM, value: study.reportMetadata.mrn! }], birthDate: '1960-06-15' });
    await env.sendReportDelivered(signed!);
    const row = await env.waitForDelivery(signed!.reportId, 'dead');
    expect(row.lastErrorCode).toBe('patient_mismatch');
    expect(row.lastErrorMessage).toContain('birthDate');
    expect(row.lastErrorMessage).not.toContain('1950');
    expect(await env.fhirSearch('DiagnosticReport')).toHaveLength(0);
    expect(await env.fhirSearch('Patient')).toHaveLength(1);
  });

  it('delivers onto the existing EHR patient, without updating it, when the demographics agree', async () => {
    env = await startTestEnv({ env: WORKER_IN_MAIN_THREAD });
    const [signed] = await env.sandbox.signReports(1, { sendWebhooks: false });
    const study = env.sandbox.getStudyState(signed!.studyId);
    const existing = await createEhrPatient(env, {
      identifier: [{ system: MRN_SYSTEM, value: study.reportMetadata.mrn! }],
      birthDate: study.reportMetadata.dateOfBirth,
      name: [{ text: 'Name As The EHR Registered It' }],
    });
    await env.sendReportDelivered(signed!);
    await env.waitForDelivery(signed!.reportId, 'delivered');
    const [report] = await env.fhirSearch<DiagnosticReport>('DiagnosticReport');
    expect(report!.subject?.reference).toBe(`Patient/${existing.id}`);
    const [patient] = await env.fhirSearch<Patient>('Patient');
    expect(patient!.meta?.versionId).toBe(existing.meta?.versionId);
    expect(patient!.name?.[0]?.text).toBe('Name As The EHR Registered It');
  });

  it('dead-letters with patient_unidentified when the study has neither MRN nor external id', async () => {
    env = await startTestEnv({ env: WORKER_IN_MAIN_THREAD });
    const [signed] = await env.sandbox.signReports(1, { sendWebhooks: false });
    const study = env.sandbox.getStudyState(signed!.studyId);
    delete study.reportMetadata.mrn;
    delete study.externalPatientId;
    delete env.sandbox.getReportState(signed!.reportId).report.snapshotMetadata.mrn;
    await env.sendReportDelivered(signed!);
    const row = await env.waitForDelivery(signed!.reportId, 'dead');
    expect(row.lastErrorCode).toBe('patient_unidentified');
    expect(await env.fhirSearch('DiagnosticReport')).toHaveLength(0);
  });

  it('dead-letters with patient_ambiguous when two EHR patients carry the MRN', async () => {
    env = await startTestEnv({ env: WORKER_IN_MAIN_THREAD });
    const [signed] = await env.sandbox.signReports(1, { sendWebhooks: false });
    const mrn = env.sandbox.getStudyState(signed!.studyId).reportMetadata.mrn!;
    await createEhrPatient(env, { identifier: [{ system: MRN_SYSTEM, value: mrn }] });
    await createEhrPatient(env, { identifier: [{ system: MRN_SYSTEM, value: mrn }] });
    await env.sendReportDelivered(signed!);
    const row = await env.waitForDelivery(signed!.reportId, 'dead');
    expect(row.lastErrorCode).toBe('patient_ambiguous');
    expect(await env.fhirSearch('DiagnosticReport')).toHaveLength(0);
  });

  it('creates one Patient when two reports of one new patient are delivered at once', async () => {
    env = await startTestEnv({ env: { ...WORKER_IN_MAIN_THREAD, WORKER_CONCURRENCY: '4' } });
    const [first, second] = await env.sandbox.signReports(2, { sendWebhooks: false });
    const a = env.sandbox.getStudyState(first!.studyId);
    const b = env.sandbox.getStudyState(second!.studyId);
    b.reportMetadata = { ...b.reportMetadata, mrn: a.reportMetadata.mrn, dateOfBirth: a.reportMetadata.dateOfBirth, sex: a.reportMetadata.sex, patientName: a.reportMetadata.patientName };
    b.externalPatientId = a.externalPatientId;
    await Promise.all([env.sendReportDelivered(first!), env.sendReportDelivered(second!)]);
    await env.waitForDelivery(first!.reportId, 'delivered');
    await env.waitForDelivery(second!.reportId, 'delivered');
    expect(await env.fhirSearch('Patient')).toHaveLength(1);
    expect(await env.fhirSearch('DiagnosticReport')).toHaveLength(2);
  });

  it('waits for the EHR to register the patient in PATIENT_MODE=match, then dead-letters with patient_not_found', async () => {
    env = await startTestEnv({ env: { ...WORKER_IN_MAIN_THREAD, PATIENT_MODE: 'match', MAX_ATTEMPTS: '2' } });
    const [signed] = await env.sandbox.signReports(1);
    const row = await env.waitForDelivery(signed!.reportId, 'dead');
    expect(row.lastErrorCode).toBe('patient_not_found');
    expect(row.attempts).toBe(2);
    expect(await env.fhirSearch('Patient')).toHaveLength(0);
  });
});
