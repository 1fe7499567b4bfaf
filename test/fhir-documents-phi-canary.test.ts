import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_MRN_SYSTEM } from './support/serve-test-settings.ts';
import { startTestEnv, type TestEnv } from './support/test-env.ts';

// Patient data of the fhir-documents paths (found, not found, mismatch, delivered) must not reach
// the log at its most talkative level; ids and codes may.
const NAME = 'Canaryname, Quillon Zebedee';
const MRN = 'MRN-CANARY-90731';
const BIRTH = '1931-02-03';

describe('PHI canary over the fhir-documents target', () => {
  let env: TestEnv;
  beforeAll(async () => {
    env = await startTestEnv({ env: { DELIVERY_TARGETS: 'fhir-documents', MAX_ATTEMPTS: '2', LOG_LEVEL: 'trace' }, fhir: { ehr: 'documents' } });
  });
  afterAll(() => env?.stop());

  async function signWith(mrn: string, ehrBirthDate: string | undefined) {
    const [signed] = await env.sandbox.signReports(1, { sendWebhooks: false });
    const study = env.sandbox.getStudyState(signed!.studyId);
    Object.assign(study.reportMetadata, { patientName: NAME, mrn, dateOfBirth: BIRTH });
    if (ehrBirthDate) await env.fhir.seed({ resourceType: 'Patient', identifier: [{ system: TEST_MRN_SYSTEM, value: mrn }], birthDate: ehrBirthDate, name: [{ text: NAME }] });
    await env.sendReportDelivered(signed!);
    return signed!;
  }

  const settled = (reportId: string, state: string) =>
    env.waitFor(`${reportId} ${state}`, async () => (await env.app.store.deliveries.get(reportId, 'fhir-documents'))?.state === state);

  it('delivered, mismatch and not found: no name, MRN or birth date in the log', async () => {
    const delivered = await signWith(MRN, BIRTH);
    await settled(delivered.reportId, 'delivered');
    const mismatch = await signWith(`${MRN}-2`, '1999-09-09');
    await settled(mismatch.reportId, 'dead');
    const unknown = await signWith(`${MRN}-3`, undefined);
    await settled(unknown.reportId, 'dead');
    expect((await env.app.store.deliveries.get(mismatch.reportId, 'fhir-documents'))!.lastErrorCode).toBe('patient_mismatch');
    expect((await env.app.store.deliveries.get(unknown.reportId, 'fhir-documents'))!.lastErrorCode).toBe('patient_not_found');
    const log = env.logText();
    expect(log).toContain(delivered.reportId);
    for (const secret of ['Canaryname', 'Quillon', MRN, BIRTH, '1999-09-09']) expect(log, secret).not.toContain(secret);
  });
});
