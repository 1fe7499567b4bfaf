import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listAuditEventsByName } from './support/audit-events.ts';
import { MRN_SYSTEM } from './fixtures/order-fixtures.ts';
import { expectGolden } from './support/expect-golden.ts';
import { seedFhirOrders, updateFhirResource, type SeededOrder } from './support/seed-fhir-orders.ts';
import { seedPatientChart } from './support/seed-sync-context.ts';
import { WORKER_IN_MAIN_THREAD } from './support/serve-test-settings.ts';
import { startTestEnv, type TestEnv } from './support/test-env.ts';

const CLINIC = '1b4e28ba-2fa1-41d2-883f-0016d3cca427';
const BUDGET_MS = 600;

/** FHIR ids are random in the embedded store: golden files hold a placeholder. */
function withStableIds(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value).replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, '<fhir-id>'));
}

async function ask(env: TestEnv, type: string, data: Record<string, unknown>): Promise<{ status: number; body: Record<string, unknown>; ms: number }> {
  const raw = JSON.stringify({ id: `whe_${Math.random().toString(16).slice(2)}`, type, data: { clinicId: CLINIC, ...data } });
  const started = performance.now();
  const response = await env.postWebhook(raw, env.signedHeaders(raw));
  const body = (await response.json()) as Record<string, unknown>;
  return { status: response.status, body, ms: performance.now() - started };
}

describe('synchronous webhooks answered from the EHR', () => {
  let env: TestEnv;
  let orders: SeededOrder[];

  beforeAll(async () => {
    env = await startTestEnv({ env: { ...WORKER_IN_MAIN_THREAD, MRN_SYSTEM, SYNC_WEBHOOK_BUDGET_MS: String(BUDGET_MS), STUDY_TIME_ZONE: 'Europe/Berlin', PRIOR_REPORTS_MAX: '5', WORKLIST_ALLOWED_AE_TITLES: 'CT_SCANNER_1,MR_3T' } });
    orders = await seedFhirOrders(env.fhir.baseUrl, [1, 2, 3], (n, r) => {
      Object.assign(r.sr, { occurrenceDateTime: ['2026-11-20T08:30:00Z', '2026-11-20T13:05:30Z', '2026-11-23T09:00:00Z'][n - 1] });
      if (n === 2) {
        Object.assign(r.sr, { code: { coding: [{ system: 'http://dicom.nema.org/resources/ontology/DCM', code: 'MR' }], text: 'MR Knee left' } });
        Object.assign(r.is, { modality: [{ system: 'http://dicom.nema.org/resources/ontology/DCM', code: 'MR' }], description: 'MR Knee', note: [{ text: 'PD fat-sat, 3 mm slices.' }] });
      }
    });
    await seedPatientChart(env.fhir.baseUrl, orders[0]!.patientId);
  });
  afterAll(async () => { await env?.stop(); });

  describe('patient_study.enrichment_requested', () => {
    it('answers the order, patient and measures found by accession number', async () => {
      const { status, body } = await ask(env, 'patient_study.enrichment_requested', { studyInstanceUid: '1.2.3.999', accessionNumber: 'ACC-5001' });
      expect(status).toBe(200);
      expect(body.externalPatientId).toBe(`Patient/${orders[0]!.patientId}`);
      expectGolden('sync-webhook-enrichment.json', withStableIds(body));
    });

    it('answers the same for the study found by its Study Instance UID alone', async () => {
      const byAccession = await ask(env, 'patient_study.enrichment_requested', { studyInstanceUid: '1.2.3.999', accessionNumber: 'ACC-5001' });
      const byUid = await ask(env, 'patient_study.enrichment_requested', { studyInstanceUid: '1.2.826.0.1.3680043.8.498.771' });
      expect(byUid.body).toEqual(byAccession.body);
    });

    it('answers patient fields only when just the DICOM Patient ID (MRN) is known', async () => {
      const { body } = await ask(env, 'patient_study.enrichment_requested', { studyInstanceUid: '1.2.3.998', patientId: 'MRN-1003' });
      expect(withStableIds(body)).toEqual({ patientName: 'Order Patient3', mrn: 'MRN-1003', externalPatientId: 'Patient/<fhir-id>', dateOfBirth: '1953-04-13', sex: 'male' });
    });

    it('answers {} when nothing matches', async () => {
      const { status, body } = await ask(env, 'patient_study.enrichment_requested', { studyInstanceUid: '1.2.3.997', accessionNumber: 'NOPE-1', patientId: 'MRN-0' });
      expect([status, body]).toEqual([200, {}]);
    });

    it('answers {} when the accession names one patient and the Patient ID another', async () => {
      const { body } = await ask(env, 'patient_study.enrichment_requested', { studyInstanceUid: '1.2.3.996', accessionNumber: 'ACC-5001', patientId: 'MRN-1002' });
      expect(body).toEqual({});
      const last = listAuditEventsByName(env, 'sync_webhook_answered').at(-1)!;
      expect(last.detail).toMatchObject({ type: 'patient_study.enrichment_requested', outcome: 'patient_mismatch' });
    });
  });

  describe('clinical_context.enrichment_requested', () => {
    it('answers indication, order notes, prior radiology reports and recent clinical notes', async () => {
      const { body } = await ask(env, 'clinical_context.enrichment_requested', {
        studyId: '6f1d4a52-b0e8-4c3a-9e57-c1f0a2d3b4c5', studyInstanceUid: '1.2.826.0.1.3680043.8.498.771', mrn: 'MRN-1001',
      });
      expectGolden('sync-webhook-clinical-context.json', withStableIds(body));
    });

    it('answers the technique from the ImagingStudy notes, found by externalPatientId and UID', async () => {
      const { body } = await ask(env, 'clinical_context.enrichment_requested', {
        studyId: '6f1d4a52-b0e8-4c3a-9e57-c1f0a2d3b4c6', studyInstanceUid: '1.2.826.0.1.3680043.8.498.772', externalPatientId: `Patient/${orders[1]!.patientId}`,
      });
      expect(body).toEqual({ clinicalIndication: 'Persistent cough; Weight loss', technologistTechnique: 'PD fat-sat, 3 mm slices.', technologistNotes: ['Former smoker.'] });
    });

    it('answers {} for a study and patient the EHR does not know', async () => {
      const { body } = await ask(env, 'clinical_context.enrichment_requested', { studyId: 'x', studyInstanceUid: '1.2.3.4', mrn: 'MRN-404' });
      expect(body).toEqual({});
    });
  });

  describe('modality_worklist.requested', () => {
    it('lists the orders scheduled in the window as DICOM worklist items', async () => {
      const { body } = await ask(env, 'modality_worklist.requested', { callingAe: 'CT_SCANNER_1', sourceIp: '10.0.0.7', dateStart: '2026-11-20', dateEnd: '2026-11-21' });
      const steps = (body.items as { ScheduledProcedureStepSequence: { ScheduledProcedureStepID: string }[] }[]).flatMap((i) => i.ScheduledProcedureStepSequence);
      // Derived from the random FHIR id: 16 characters (DICOM SH), stable per order.
      for (const step of steps) {
        expect(step.ScheduledProcedureStepID).toMatch(/^[0-9A-F]{16}$/);
        step.ScheduledProcedureStepID = '<from ServiceRequest id>';
      }
      expectGolden('sync-webhook-worklist.json', body);
    });

    it('keeps only the requested modality', async () => {
      const { body } = await ask(env, 'modality_worklist.requested', { callingAe: 'MR_3T', sourceIp: '10.0.0.8', dateStart: '2026-11-20', dateEnd: '2026-11-20', modality: 'MR' });
      expect((body.items as { AccessionNumber: string }[]).map((i) => i.AccessionNumber)).toEqual(['ACC-5002']);
    });

    it('gives an order without an ImagingStudy the same derived 2.25 UID on every query', async () => {
      const id = orders[2]!.imagingStudyId;
      await fetch(`${env.fhir.baseUrl}/ImagingStudy/${id}`, { method: 'DELETE' });
      const uids = [];
      for (let i = 0; i < 2; i++) {
        const { body } = await ask(env, 'modality_worklist.requested', { callingAe: 'CT_SCANNER_1', sourceIp: '10.0.0.7', dateStart: '2026-11-23', dateEnd: `2026-11-2${3 + i}` });
        uids.push((body.items as { StudyInstanceUID: string }[])[0]?.StudyInstanceUID);
      }
      expect(uids[0]).toMatch(/^2\.25\.\d+$/);
      expect(uids[1]).toBe(uids[0]);
    });

    it('refuses a calling AE title that is not in WORKLIST_ALLOWED_AE_TITLES', async () => {
      const { status, body } = await ask(env, 'modality_worklist.requested', { callingAe: 'ROGUE', sourceIp: '10.0.0.9', dateStart: '2026-11-20', dateEnd: '2026-11-21' });
      expect(status).toBe(200);
      expect(body).toMatchObject({ authorized: false, items: [] });
    });

    it('answers an empty worklist, authorized, for a window with nothing scheduled', async () => {
      const { body } = await ask(env, 'modality_worklist.requested', { callingAe: 'CT_SCANNER_1', sourceIp: '10.0.0.7', dateStart: '2027-01-01', dateEnd: '2027-01-02' });
      expect(body).toEqual({ authorized: true, items: [] });
    });
  });

  it('asks FHIR once for the same enrichment asked twice within the cache lifetime', async () => {
    const data = { studyInstanceUid: '1.2.3.555', accessionNumber: 'ACC-5002' };
    await ask(env, 'patient_study.enrichment_requested', data);
    const before = env.fhir.requests().length;
    await ask(env, 'patient_study.enrichment_requested', data);
    expect(env.fhir.requests().length).toBe(before);
  });

  it('still answers the cached order within the 10 s cache lifetime after an edit', async () => {
    await updateFhirResource(env.fhir.baseUrl, 'ServiceRequest', orders[0]!.serviceRequestId, (sr) => { (sr as { priority?: string }).priority = 'routine'; });
    const { body } = await ask(env, 'patient_study.enrichment_requested', { studyInstanceUid: '1.2.3.999', accessionNumber: 'ACC-5001' });
    expect(body.severity).toBe('high'); // still the cached order (10 s)
  });

  it('audits every answer with its outcome and time, and logs no patient data', async () => {
    const events = listAuditEventsByName(env, 'sync_webhook_answered');
    expect(events.length).toBeGreaterThanOrEqual(10);
    expect(events.every((e) => typeof e.detail?.ms === 'number' && typeof e.detail?.outcome === 'string')).toBe(true);
    const audit = JSON.stringify(events);
    const logs = env.logText();
    for (const phi of ['Order Patient1', 'MRN-1001', 'Chronic cough 8 weeks', 'Small left apical nodule', 'Persistent cough', '1951-02-11']) {
      expect(logs).not.toContain(phi);
      expect(audit).not.toContain(phi);
    }
  });
});

describe('synchronous webhooks when the EHR is down or slow', () => {
  let env: TestEnv;
  beforeAll(async () => {
    env = await startTestEnv({ env: { ...WORKER_IN_MAIN_THREAD, MRN_SYSTEM, SYNC_WEBHOOK_BUDGET_MS: String(BUDGET_MS) } });
    await seedFhirOrders(env.fhir.baseUrl, [1]);
  });
  afterAll(async () => { await env?.stop(); });

  const SOFT: [string, Record<string, unknown>, unknown][] = [
    ['patient_study.enrichment_requested', { studyInstanceUid: '1.2.3', accessionNumber: 'ACC-5001' }, {}],
    ['clinical_context.enrichment_requested', { studyId: 'x', studyInstanceUid: '1.2.3', mrn: 'MRN-1001' }, {}],
    ['modality_worklist.requested', { callingAe: 'CT1', sourceIp: '10.0.0.1', dateStart: '2026-11-20', dateEnd: '2026-11-20' }, { authorized: true, items: [], error: expect.stringMatching(/unavailable/) }],
  ];

  it.each(SOFT)('answers %s softly within the budget when FHIR is slower than the budget', async (type, data, expected) => {
    env.fhir.faults.delayMs(BUDGET_MS * 3);
    try {
      const { status, body, ms } = await ask(env, type, data);
      expect(status).toBe(200);
      expect(body).toEqual(expected);
      expect(ms).toBeLessThan(BUDGET_MS + 150);
    } finally {
      env.fhir.faults.delayMs(0);
    }
  });

  it.each(SOFT)('answers %s softly within the budget when FHIR is down', async (type, data, expected) => {
    await env.fhir.faults.down();
    try {
      const { status, body, ms } = await ask(env, type, data);
      expect(status).toBe(200);
      expect(body).toEqual(expected);
      expect(ms).toBeLessThan(BUDGET_MS + 150);
    } finally {
      await env.fhir.faults.up();
    }
    const last = listAuditEventsByName(env, 'sync_webhook_answered').at(-1)!;
    expect(last.detail).toMatchObject({ type, outcome: 'fhir_unavailable' });
  });
});
