import type { SignedRef } from '../src/standins/avara-sandbox/sandbox-types.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeAuditExport } from '../src/commands/audit-export.ts';
import { startTestEnv, type TestEnv } from './support/test-env.ts';
import { HANG_GUARD_MS } from './support/wait-for.ts';
import { sqliteOf } from './support/sqlite-of.ts';

const TOKEN = 'phi-canary-admin-token-001';
const MRN_SYSTEM = 'urn:avara-fhir-sync:mrn';
const isTransaction = (method: string, path: string) => method === 'POST' && /\/fhir\/R4\/?$/.test(path);

interface Canary { name: string; mrn: string; dob: string; sentence: string }

const canaries: Canary[] = [
  { name: 'Zebulon Canaryfeather', mrn: 'MRN-CANARY-771', dob: '1931-02-03', sentence: 'Canary finding: a periwinkle nodule abuts the quixotic lobe.' },
  { name: 'Okafor-Canarywing, Philippa', mrn: 'MRN-CANARY-882', dob: '1944-05-06', sentence: 'Canary impression: marmalade opacity without zeppelin sign.' },
  { name: 'Ysolde Canarytail', mrn: 'MRN-CANARY-993', dob: '1957-08-09', sentence: 'Canary comparison: the tangerine effusion has resolved entirely.' },
];
/** What must never leave the EHR boundary: names, whole MRNs, birth dates, report sentences. */
const secrets = canaries.flatMap((c) => [...c.name.split(/[ ,]+/).filter((w) => w.length > 3), c.mrn, c.dob, c.sentence, c.sentence.slice(15, 45)]);

describe('PHI canary: patient data never reaches logs, stored errors, the audit trail, the API, the page or metrics', () => {
  let env: TestEnv;
  let refs: SignedRef[];
  const get = (path: string) => fetch(`${env.app.url}${path}`, { headers: { authorization: `Bearer ${TOKEN}` } }).then((r) => r.text());

  function plant(ref: SignedRef, canary: Canary): void {
    const study = env.sandbox.getStudyState(ref.studyId);
    Object.assign(study.reportMetadata, { patientName: canary.name, mrn: canary.mrn, dateOfBirth: canary.dob });
    env.sandbox.getReportState(ref.reportId).plainText = `Findings:\n${canary.sentence}\nEnd.`;
  }

  beforeAll(async () => {
    env = await startTestEnv({ env: { LOG_LEVEL: 'trace', ADMIN_TOKEN: TOKEN, MAX_ATTEMPTS: '2' } });
    refs = await env.sandbox.signReports(3, { sendWebhooks: false });
    refs.forEach((ref, i) => plant(ref, canaries[i]!));

    // 1: delivered after one failed attempt (FHIR refuses the transaction three times in a row).
    env.fhir.faults.failNext(3, 500, { matcher: isTransaction });
    await env.sendReportDelivered(refs[0]!);
    await env.waitForDelivery(refs[0]!.reportId, 'delivered');
    // 2: dead, patient_mismatch: the EHR knows that MRN with another birth date.
    await fetch(`${env.fhir.baseUrl}/Patient`, {
      method: 'POST', headers: { 'content-type': 'application/fhir+json' },
      body: JSON.stringify({ resourceType: 'Patient', identifier: [{ system: MRN_SYSTEM, value: canaries[1]!.mrn }], birthDate: '1999-12-31', name: [{ text: canaries[1]!.name }] }),
    });
    await env.sendReportDelivered(refs[1]!);
    await env.waitForDelivery(refs[1]!.reportId, 'dead');
    // 3: dead after Avara kept failing the report text.
    env.sandbox.failNext('GET /v1/autoScribe/reports/text', { status: 500, times: 100 });
    await env.sendReportDelivered(refs[2]!);
    // Attempts with backoff until MAX_ATTEMPTS: as long as it takes while the queue moves.
    await env.waitForDelivery(refs[2]!.reportId, 'dead', env.untilQueueStalls);
    env.sandbox.clearFaults();
  }, HANG_GUARD_MS);
  afterAll(() => env.stop());

  const expectClean = (where: string, text: string) => {
    for (const secret of secrets) expect(text.includes(secret), `${where} contains "${secret}"`).toBe(false);
  };

  it('the scenario really ran: one delivered, two dead with their codes, labels masked', async () => {
    expect(env.delivery(refs[0]!.reportId)).toMatchObject({ state: 'delivered', attempts: 2 });
    expect(env.delivery(refs[1]!.reportId)).toMatchObject({ state: 'dead', lastErrorCode: 'patient_mismatch' });
    expect(env.delivery(refs[2]!.reportId)?.state).toBe('dead');
    expect(env.delivery(refs[0]!.reportId)?.patientLabel).toBe('Z.C. \u00b7\u00b7\u00b7-771');
  });

  it('keeps them out of every log line', () => {
    expect(env.logText()).toContain(refs[0]!.reportId);
    expectClean('logs', env.logText());
  });

  it('keeps them out of stored error messages and the audit trail (and its export)', async () => {
    const rows = sqliteOf(env.app).sqlite.prepare('SELECT last_error_code, last_error_message, patient_label FROM deliveries').all();
    expectClean('deliveries', JSON.stringify(rows));
    expectClean('audit_events', JSON.stringify(sqliteOf(env.app).sqlite.prepare('SELECT * FROM audit_events').all()));
    let exported = '';
    await writeAuditExport(env.app.store, 0, 'ndjson', (chunk) => (exported += chunk));
    expectClean('audit export', exported);
  });

  it('keeps them out of API answers, the audit page and /metrics', async () => {
    expectClean('/api/deliveries', await get('/api/deliveries'));
    expectClean('/api/summary', await get('/api/summary'));
    expectClean('page /', await get('/'));
    for (const { reportId } of refs) {
      expectClean(`/api/deliveries/${reportId}`, await get(`/api/deliveries/${reportId}`));
      expectClean(`page /deliveries/${reportId}`, await get(`/deliveries/${reportId}`));
    }
    expectClean('/metrics', await get('/metrics'));
  });
});
