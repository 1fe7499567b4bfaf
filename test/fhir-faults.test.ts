import type { DiagnosticReport } from '@medplum/fhirtypes';
import { eq } from 'drizzle-orm';
import { afterEach, describe, expect, it } from 'vitest';
import type { SignedRef } from '../src/standins/avara-sandbox/sandbox-types.ts';
import { startFhirServer } from '../src/standins/fhir-store/start-fhir-server.ts';
import { sqliteOf } from './support/sqlite-of.ts';
import { createFhirClient } from '../src/fhir/fhir-client.ts';
import { identifierSearchToken } from '../src/deliveries/mapping/identifier-query.ts';
import { listAuditEvents } from '../src/store/audit.ts';
import { requeueExpiredLeases } from '../src/store/deliveries.ts';
import { deliveries } from '../src/store/schema.ts';
import { deliveryBundle } from './support/fhir-store-fixtures.ts';
import { WORKER_IN_MAIN_THREAD } from './support/serve-test-settings.ts';
import { startTestEnv, type TestEnv } from './support/test-env.ts';
import { waitFor } from './support/wait-for.ts';

const SID = 'https://api.avarasoftware.com/fhir/sid';
const MRN_SYSTEM = 'urn:avara-fhir-sync:mrn';
const isTransaction = (method: string, path: string) => method === 'POST' && path === '/fhir/R4/';

// What a delivery decides when the server misbehaves runs the worker beside the server
// (WORKER_IN_MAIN_THREAD), sparing a delivery thread's start per test; the two lease tests keep the
// delivery thread, whose own event loop renews leases while a transaction hangs.
describe('delivery when the FHIR server misbehaves', () => {
  let env: TestEnv;
  afterEach(() => env.stop());

  it('retries a transaction that was committed but whose answer was lost, and ends delivered with one of each resource', async () => {
    env = await startTestEnv({ env: WORKER_IN_MAIN_THREAD });
    env.fhir.faults.commitThenDrop(1, { matcher: isTransaction });
    const [signed] = await env.sandbox.signReports(1);
    await env.waitForDelivery(signed!.reportId, 'delivered');
    expect(transactions(env).map((r) => (r.dropped ? 'dropped' : r.status))).toEqual(['dropped', 200]);
    await expectOneOfEach(env, [signed!]);
  });

  it('waits at least the Retry-After of a 503 before posting the transaction again, then delivers one of each', async () => {
    env = await startTestEnv({ env: WORKER_IN_MAIN_THREAD });
    env.fhir.faults.failNext(1, 503, { retryAfterSeconds: 1, matcher: isTransaction });
    const [signed] = await env.sandbox.signReports(1);
    const row = await env.waitForDelivery(signed!.reportId, 'delivered');
    const [refused, accepted] = transactions(env);
    expect([refused?.status, accepted?.status]).toEqual([503, 200]);
    expect(accepted!.receivedAt - refused!.finishedAt!).toBeGreaterThanOrEqual(1000);
    expect(row.attempts).toBe(1);
    await expectOneOfEach(env, [signed!]);
  });

  it('keeps the lease through a transaction that hangs longer than the lease, and delivers once the store answers', async () => {
    env = await startTestEnv({ env: { LEASE_SECONDS: '5', WORKER_CONCURRENCY: '2' } });
    env.fhir.faults.hangNext(1, 5600, { matcher: isTransaction });
    const [signed] = await env.sandbox.signReports(1);
    const row = await env.waitForDelivery(signed!.reportId, 'delivered', 15_000);
    // The heartbeat renewed the lease while the attempt waited: nobody took over, one attempt.
    expect(row.attempts).toBe(1);
    expect(auditTrail(env, signed!.reportId)).not.toContain('lease_expired');
    expect(transactions(env).map((r) => [r.hungMs ?? 0, r.status])).toEqual([[5600, 200]]);
    await expectOneOfEach(env, [signed!]);
  });

  it('fences an attempt that lost its lease while its transaction hung: the takeover delivers, the late one marks nothing', async () => {
    env = await startTestEnv({ env: { LEASE_SECONDS: '5', WORKER_CONCURRENCY: '2' } });
    env.fhir.faults.hangNext(1, 3000, { matcher: isTransaction });
    const [signed] = await env.sandbox.signReports(1);
    await env.waitFor('the transaction to hang', () => transactions(env).length === 1);
    expect(expireLease(env, signed!.reportId)).toBe(1);
    env.app.wake();
    const row = await env.waitForDelivery(signed!.reportId, 'delivered', 15_000);
    await env.waitFor('the hung transaction to be answered', () => transactions(env).every((r) => r.finishedAt !== undefined));

    const trail = (await env.app.store.audit.ofReport(signed!.reportId));
    expect(trail.map((e) => e.event)).toContain('lease_expired');
    const delivered = trail.filter((e) => e.event === 'delivered');
    // The expired attempt's outcome is unknown, so the takeover is attempt 1 again.
    expect(delivered.map((e) => e.detail?.attempt)).toEqual([1]);
    expect(row.attempts).toBe(1);
    expect(trail.filter((e) => e.event === 'attempt_started').length).toBeGreaterThanOrEqual(2);
    expect(env.logText()).toContain('"outcome":"lease_lost"');
    // The late attempt's locks kept the takeover from writing until it was done.
    expect(transactions(env).map((r) => [r.hungMs ?? 0, r.status])).toEqual([[3000, 200], [0, 200]]);
    await expectOneOfEach(env, [signed!]);
  });

  it('creates one Patient and one Practitioner per radiologist when two reports of one new patient are delivered at once by a racy server', async () => {
    env = await startTestEnv({ env: { ...WORKER_IN_MAIN_THREAD, WORKER_CONCURRENCY: '4' } });
    env.fhir.faults.racyConditionalCreates(true, { gapMs: 100 });
    const [first, second] = await env.sandbox.signReports(2, { sendWebhooks: false });
    const a = env.sandbox.getStudyState(first!.studyId);
    const b = env.sandbox.getStudyState(second!.studyId);
    const { mrn, dateOfBirth, sex, patientName } = a.reportMetadata;
    b.reportMetadata = { ...b.reportMetadata, mrn, dateOfBirth, sex, patientName };
    await Promise.all([env.sendReportDelivered(first!), env.sendReportDelivered(second!)]);
    await env.waitForDelivery(first!.reportId, 'delivered');
    await env.waitForDelivery(second!.reportId, 'delivered');
    await expectOneOfEach(env, [first!, second!]);
  });

  it('creates one Practitioner when two patients\' reports signed by one radiologist are delivered at once by a racy server', async () => {
    env = await startTestEnv({ env: { ...WORKER_IN_MAIN_THREAD, WORKER_CONCURRENCY: '4' } });
    env.fhir.faults.racyConditionalCreates(true, { gapMs: 100 });
    const [first, second] = await env.sandbox.signReports(2, { sendWebhooks: false });
    signBySameRadiologist(env, first!, second!);
    await Promise.all([env.sendReportDelivered(first!), env.sendReportDelivered(second!)]);
    await env.waitForDelivery(first!.reportId, 'delivered');
    await env.waitForDelivery(second!.reportId, 'delivered');
    expect(await env.fhirSearch('Practitioner')).toHaveLength(1);
    await expectOneOfEach(env, [first!, second!]);
  });

  it('dead-letters with fhir_rejected_bundle naming the entry when a 200 transaction answer carries a failed entry', async () => {
    env = await startTestEnv({ env: WORKER_IN_MAIN_THREAD });
    env.fhir.faults.failEntryNext(1, { resourceType: 'DiagnosticReport', status: 422, matcher: isTransaction });
    const [signed] = await env.sandbox.signReports(1);
    const row = await env.waitForDelivery(signed!.reportId, 'dead');
    expect(row.lastErrorCode).toBe('fhir_rejected_bundle');
    expect(row.lastErrorMessage).toMatch(/entry \d+ DiagnosticReport answered 422/);
    expect(row.deliveredAt).toBeNull();
    expect(auditTrail(env, signed!.reportId)).not.toContain('delivered');
  });

  it('dead-letters with fhir_conflicting_matches and both ids when two DiagnosticReports already carry the study identifier', async () => {
    env = await startTestEnv({ env: WORKER_IN_MAIN_THREAD });
    const [signed] = await env.sandbox.signReports(1, { sendWebhooks: false });
    const seeded = await Promise.all([1, 2].map(() => env.fhir.repository.createResource<DiagnosticReport>({
      resourceType: 'DiagnosticReport',
      status: 'final',
      code: { text: 'Seeded by the EHR' },
      identifier: [{ system: `${SID}/study-id`, value: signed!.studyId }],
    })));
    await env.sendReportDelivered(signed!);
    const row = await env.waitForDelivery(signed!.reportId, 'dead');
    expect(row.lastErrorCode).toBe('fhir_conflicting_matches');
    for (const report of seeded) expect(row.lastErrorMessage).toContain(`DiagnosticReport/${report.id}`);
    expect(await env.fhirSearch('DiagnosticReport', { identifier: `${SID}/study-id|${signed!.studyId}` })).toHaveLength(2);
    // The transaction is all or nothing: the 412 wrote none of its other entries either.
    expect(await env.fhirSearch('Patient')).toHaveLength(0);
  });
});

describe('FHIR client against a hung server', () => {
  it('ends a hung transaction at its timeout and retries; the late commit of the first one duplicates nothing', async () => {
    const store = await startFhirServer({ port: 0 });
    try {
      store.faults.hangNext(1, 2500, { matcher: isTransaction });
      const client = createFhirClient({ baseUrl: store.baseUrl, auth: { kind: 'none' }, timeoutMs: 500 });
      const keys = { mrn: 'MRN-HUNG', studyUid: '1.2.9', studyId: 'stu_hung', reportId: 'rep_hung' };
      const answer = await client.postTransaction(deliveryBundle(keys));
      expect(answer.entry?.every((e) => /^20[01]/.test(e.response?.status ?? ''))).toBe(true);
      const [hung, ...retries] = store.requests();
      expect(hung?.hungMs).toBe(2500);
      expect(retries.length).toBeGreaterThanOrEqual(1);
      // The abandoned request is still applied, after the retry that answered the client.
      await waitFor('the hung request to finish', () => hung?.finishedAt !== undefined, 5000);
      expect(hung!.status).toBe(200);
      expect(hung!.finishedAt!).toBeGreaterThan(retries[0]!.finishedAt!);
      for (const type of ['Patient', 'ImagingStudy', 'DocumentReference', 'DiagnosticReport']) {
        expect(await store.repository.searchResources({ resourceType: type as 'Patient' })).toHaveLength(1);
      }
    } finally {
      await store.stop();
    }
  });
});

function transactions(env: TestEnv) {
  return env.fhir.requests().filter((r) => isTransaction(r.method, r.path));
}

function auditTrail(env: TestEnv, reportId: string): string[] {
  return listAuditEvents(sqliteOf(env.app).db, reportId).map((e) => e.event);
}

/**
 * The worker stalled longer than its lease (its heartbeat could not renew): the lease is moved into
 * the past and the expiry sweep runs in one synchronous step, so no heartbeat can renew in between.
 */
function expireLease(env: TestEnv, reportId: string): number {
  const { db } = sqliteOf(env.app);
  const now = Date.now();
  db.update(deliveries).set({ leaseExpiresAt: now - 1 }).where(eq(deliveries.reportId, reportId)).run();
  return requeueExpiredLeases(db, now, 12);
}

function signBySameRadiologist(env: TestEnv, first: SignedRef, second: SignedRef): void {
  const signer = env.sandbox.getReportState(first.reportId).report.userId;
  env.sandbox.getReportState(second.reportId).report.userId = signer;
  env.sandbox.getStudyState(second.studyId).assignedTo = env.sandbox.getStudyState(first.studyId).assignedTo;
}

/** Exactly one resource per business identifier, found by FHIR search, and no strays without one. */
async function expectOneOfEach(env: TestEnv, signed: SignedRef[]): Promise<void> {
  const wanted = new Map<string, [string, string]>();
  const add = (type: string, system: string, value: string) => wanted.set(`${type} ${system}|${value}`, [type, identifierSearchToken(system, value)]);
  for (const ref of signed) {
    const study = env.sandbox.getStudyState(ref.studyId);
    add('Patient', MRN_SYSTEM, study.reportMetadata.mrn!);
    add('Practitioner', `${SID}/user-id`, env.sandbox.getReportState(ref.reportId).report.userId);
    add('ImagingStudy', 'urn:dicom:uid', `urn:oid:${study.studyInstanceUid}`);
    add('DocumentReference', `${SID}/report-id`, ref.reportId);
    add('DiagnosticReport', `${SID}/study-id`, ref.studyId);
  }
  const found: Record<string, number> = {};
  const expected: Record<string, number> = {};
  for (const [key, [type, identifier]] of wanted) {
    found[key] = (await env.fhirSearch(type, { identifier })).length;
    expected[key] = 1;
  }
  expect(found).toEqual(expected);
  for (const type of ['Patient', 'Practitioner', 'ImagingStudy', 'DocumentReference', 'DiagnosticReport']) {
    const perType = [...wanted.values()].filter(([t]) => t === type).length;
    expect(await env.fhirSearch(type), type).toHaveLength(perType);
  }
}
