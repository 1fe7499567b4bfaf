import type { BundleEntry } from '@medplum/fhirtypes';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { EmbeddedFhirServer } from '../src/standins/fhir-store/start-fhir-server.ts';
import { startFhirServer } from '../src/standins/fhir-store/start-fhir-server.ts';
import { MRN_SYSTEM, deliveryBundle, getJson, newUrn, postJson, transaction } from './support/fhir-store-fixtures.ts';
import { waitFor } from './support/wait-for.ts';

const keys = { mrn: 'MRN-F', studyUid: '1.2.3', studyId: 'stu_f', reportId: 'rep_f' };

describe('embedded FHIR store: fault switches', () => {
  let store: EmbeddedFhirServer;
  beforeEach(async () => { store = await startFhirServer({ port: 0 }); });
  afterEach(() => store.stop());

  async function reportCount(): Promise<number> {
    return (await store.repository.searchResources({ resourceType: 'DiagnosticReport' })).length;
  }

  async function patientsWithMrn(mrn: string): Promise<number> {
    return (await getJson(`${store.baseUrl}/Patient?identifier=${encodeURIComponent(`${MRN_SYSTEM}|${mrn}`)}`)).body.total;
  }

  it('answers 503 with Retry-After for the next two requests, writing nothing, then recovers', async () => {
    store.faults.failNext(2, 503, { retryAfterSeconds: 7 });
    for (let i = 0; i < 2; i++) {
      const res = await postJson(store.baseUrl, deliveryBundle(keys));
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('7');
      expect(res.body.resourceType).toBe('OperationOutcome');
    }
    expect(await reportCount()).toBe(0);
    expect((await postJson(store.baseUrl, deliveryBundle(keys))).status).toBe(200);
  });

  it('fails only the requests its matcher selects', async () => {
    store.faults.failNext(1, 500, { matcher: (method, path) => method === 'POST' && path === '/fhir/R4/' });
    expect((await getJson(`${store.baseUrl}/Patient`)).status).toBe(200);
    expect((await postJson(store.baseUrl, deliveryBundle(keys))).status).toBe(500);
    expect((await postJson(store.baseUrl, deliveryBundle(keys))).status).toBe(200);
  });

  it('commits the transaction but drops the connection, and a retry then changes nothing new', async () => {
    store.faults.commitThenDrop(1);
    await expect(postJson(store.baseUrl, deliveryBundle(keys))).rejects.toThrow(TypeError);
    const [committed] = await store.repository.searchResources({ resourceType: 'DiagnosticReport' });
    expect(committed?.meta?.versionId).toBe('1');

    const retry = await postJson(store.baseUrl, deliveryBundle(keys));
    expect(retry.status).toBe(200);
    expect(retry.body.entry.map((e: BundleEntry) => e.resource?.id)[3]).toBe(committed?.id);
    expect(await reportCount()).toBe(1);
    expect(store.requests().map((r) => [r.method, r.path, r.dropped ?? false, r.status])).toEqual([
      ['POST', '/fhir/R4/', true, undefined],
      ['POST', '/fhir/R4/', false, 200],
    ]);
  });

  it('holds the next matching request for the hang, then commits it although its client gave up', async () => {
    store.faults.hangNext(1, 400, { matcher: (method) => method === 'POST' });
    const abandoned = fetch(store.baseUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/fhir+json' },
      body: JSON.stringify(deliveryBundle(keys)),
      signal: AbortSignal.timeout(100),
    });
    await expect(abandoned).rejects.toThrow();
    expect(await reportCount()).toBe(0);
    const [hung] = store.requests();
    await waitFor('the hung request to finish', () => hung?.finishedAt !== undefined, 5000);
    expect(hung).toMatchObject({ method: 'POST', hungMs: 400, status: 200 });
    expect(hung!.finishedAt! - hung!.receivedAt).toBeGreaterThanOrEqual(390);
    expect(await reportCount()).toBe(1);
    // Armed once: the next request is answered at once.
    expect((await getJson(`${store.baseUrl}/metadata`)).status).toBe(200);
    expect(store.requests()[1]?.hungMs).toBeUndefined();
  });

  it('answers a transaction 200 with the entry of the chosen type reported as failed', async () => {
    store.faults.failEntryNext(1, { resourceType: 'DocumentReference', status: 422 });
    const res = await postJson(store.baseUrl, deliveryBundle(keys));
    expect(res.status).toBe(200);
    expect(res.body.type).toBe('transaction-response');
    expect(res.body.entry.map((e: BundleEntry) => e.response?.status)).toEqual(['201', '201', '422', '201']);
    expect(res.body.entry[2].response.outcome.issue[0].expression).toEqual(['Bundle.entry[2]']);
    expect((await postJson(store.baseUrl, deliveryBundle(keys))).body.entry[2].response.status).toMatch(/^200/);
  });

  it('creates twice when two conditional creates of one identifier arrive together in racy mode', async () => {
    store.faults.racyConditionalCreates(true, { gapMs: 100 });
    const answers = await Promise.all([postJson(store.baseUrl, patientCreate('MRN-RACE')), postJson(store.baseUrl, patientCreate('MRN-RACE'))]);
    expect(answers.map((a) => a.body.entry[0].response.status)).toEqual(['201', '201']);
    expect(await patientsWithMrn('MRN-RACE')).toBe(2);
  });

  it('creates once for the same two concurrent conditional creates when racy mode is off again', async () => {
    store.faults.racyConditionalCreates(true);
    store.faults.racyConditionalCreates(false);
    const answers = await Promise.all([postJson(store.baseUrl, patientCreate('MRN-SAFE')), postJson(store.baseUrl, patientCreate('MRN-SAFE'))]);
    expect(answers.map((a) => a.body.entry[0].response.status).sort()).toEqual(['200', '201']);
    expect(await patientsWithMrn('MRN-SAFE')).toBe(1);
  });

  it('refuses connections while down and serves the same data on the same port after up', async () => {
    await postJson(store.baseUrl, deliveryBundle(keys));
    await store.faults.down();
    const refused = await fetch(`${store.baseUrl}/metadata`).catch((err: Error) => err);
    expect(refused).toBeInstanceOf(TypeError);
    expect(((refused as Error).cause as { code?: string }).code).toBe('ECONNREFUSED');

    await store.faults.up();
    const res = await getJson(`${store.baseUrl}/DiagnosticReport`);
    expect(res.body.total).toBe(1);
  });

  it('delays every request while a delay is set, until reset', async () => {
    store.faults.delayMs(150);
    let started = performance.now();
    await getJson(`${store.baseUrl}/metadata`);
    expect(performance.now() - started).toBeGreaterThanOrEqual(140);
    store.faults.reset();
    started = performance.now();
    await getJson(`${store.baseUrl}/Patient`);
    expect(performance.now() - started).toBeLessThan(140);
  });
});

function patientCreate(mrn: string) {
  const identifier = `identifier=${MRN_SYSTEM}|${mrn}`;
  const patient = { resourceType: 'Patient' as const, identifier: [{ system: MRN_SYSTEM, value: mrn }] };
  return transaction([{ fullUrl: newUrn(), resource: patient, request: { method: 'POST', url: 'Patient', ifNoneExist: identifier } }]);
}
