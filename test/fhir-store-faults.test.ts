import type { BundleEntry } from '@medplum/fhirtypes';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { EmbeddedFhirServer } from '../src/fhir/embedded/start-fhir-server.ts';
import { startFhirServer } from '../src/fhir/embedded/start-fhir-server.ts';
import { deliveryBundle, getJson, postJson } from './support/fhir-store-fixtures.ts';

const keys = { mrn: 'MRN-F', studyUid: '1.2.3', studyId: 'stu_f', reportId: 'rep_f' };

describe('embedded FHIR store: fault switches', () => {
  let store: EmbeddedFhirServer;
  beforeEach(async () => {
    store = await startFhirServer({ port: 0 });
  });
  afterEach(async () => {
    await store.stop();
  });

  async function reportCount(): Promise<number> {
    return (await store.repository.searchResources({ resourceType: 'DiagnosticReport' })).length;
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
