import { MedplumClient } from '@medplum/core';
import type { Bundle, DiagnosticReport, Patient } from '@medplum/fhirtypes';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { EmbeddedFhirServer } from '../src/standins/fhir-store/start-fhir-server.ts';
import { startFhirServer } from '../src/standins/fhir-store/start-fhir-server.ts';
import { CRITICAL_TAG, MRN_SYSTEM, getJson, postJson, putJson } from './support/fhir-store-fixtures.ts';

describe('embedded FHIR store: REST interactions over HTTP', () => {
  let store: EmbeddedFhirServer;
  beforeEach(async () => { store = await startFhirServer({ port: 0 }); });
  afterEach(() => store.stop());

  it('answers a create with Location and ETag but no body when the client prefers return=minimal', async () => {
    const res = await fetch(`${store.baseUrl}/Patient`, {
      method: 'POST',
      headers: { 'content-type': 'application/fhir+json', prefer: 'return=minimal' },
      body: JSON.stringify({ resourceType: 'Patient', gender: 'male' }),
    });
    expect(res.status).toBe(201);
    expect(res.headers.get('location')).toMatch(/\/Patient\/[^/]+\/_history\/1$/);
    expect(res.headers.get('etag')).toBe('W/"1"');
    expect(await res.text()).toBe('');
  });

  it('creates, reads, updates, reads a version and deletes a Patient', async () => {
    const created = await postJson(`${store.baseUrl}/Patient`, { resourceType: 'Patient', id: 'client-chosen', gender: 'male' });
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    expect(id).not.toBe('client-chosen');
    expect(created.headers.get('location')).toBe(`${store.baseUrl}/Patient/${id}/_history/1`);
    expect(created.headers.get('etag')).toBe('W/"1"');

    const updated = await putJson(`${store.baseUrl}/Patient/${id}`, { ...created.body, gender: 'female' });
    expect(updated.status).toBe(200);
    expect(updated.body.meta.versionId).toBe('2');

    expect((await getJson(`${store.baseUrl}/Patient/${id}`)).body.gender).toBe('female');
    expect((await getJson(`${store.baseUrl}/Patient/${id}/_history/1`)).body.gender).toBe('male');
    for (let read = 0; read < 2; read++) {
      const history = await getJson(`${store.baseUrl}/Patient/${id}/_history`);
      expect(history.body.entry.map((e: { resource: Patient }) => e.resource.meta?.versionId)).toEqual(['2', '1']);
    }
    const stale = await fetch(`${store.baseUrl}/Patient/${id}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/fhir+json', 'if-match': 'W/"1"' },
      body: JSON.stringify({ ...created.body, gender: 'other' }),
    });
    expect(stale.status).toBe(412);

    const deleted = await fetch(`${store.baseUrl}/Patient/${id}`, { method: 'DELETE' });
    expect(deleted.status).toBe(200);
    expect((await getJson(`${store.baseUrl}/Patient/${id}`)).status).toBe(404);
  });

  it('answers 400 with an OperationOutcome for a resource that violates the R4 definitions', async () => {
    const res = await postJson(`${store.baseUrl}/DiagnosticReport`, { resourceType: 'DiagnosticReport', status: 'final' });
    expect(res.status).toBe(400);
    expect(res.body.resourceType).toBe('OperationOutcome');
    expect(await store.repository.searchResources({ resourceType: 'DiagnosticReport' })).toHaveLength(0);
  });

  it('searches by identifier, _tag, subject and _lastUpdated, paging with _count', async () => {
    const patient = await store.repository.createResource<Patient>({ resourceType: 'Patient' });
    for (let i = 0; i < 3; i++) {
      await store.repository.createResource<DiagnosticReport>({
        resourceType: 'DiagnosticReport',
        status: 'final',
        code: { text: 'CT' },
        identifier: [{ system: 'urn:test', value: `r${i}` }],
        subject: { reference: `Patient/${patient.id}` },
        meta: i === 1 ? { tag: [CRITICAL_TAG] } : undefined,
      });
    }
    const byIdentifier = await getJson(`${store.baseUrl}/DiagnosticReport?identifier=urn:test|r2`);
    expect(byIdentifier.body.entry.map((e: { resource: DiagnosticReport }) => e.resource.identifier?.[0]?.value)).toEqual(['r2']);
    const byTag = await getJson(`${store.baseUrl}/DiagnosticReport?_tag=${encodeURIComponent(`${CRITICAL_TAG.system}|AA`)}`);
    expect(byTag.body.total).toBe(1);
    expect(byTag.body.entry[0].resource.identifier[0].value).toBe('r1');

    const page = await getJson(`${store.baseUrl}/DiagnosticReport?subject=Patient/${patient.id}&_count=2`);
    expect(page.body.total).toBe(3);
    expect(page.body.entry).toHaveLength(2);
    const next = page.body.link.find((l: { relation: string }) => l.relation === 'next').url as string;
    expect((await getJson(next)).body.entry).toHaveLength(1);

    expect((await getJson(`${store.baseUrl}/DiagnosticReport?_lastUpdated=gt2000-01-01`)).body.total).toBe(3);
    expect((await getJson(`${store.baseUrl}/DiagnosticReport?_lastUpdated=gt2999-01-01`)).body.total).toBe(0);
  });

  it('describes transactions, conditional writes and the indexed search parameters in metadata', async () => {
    const res = await getJson(`${store.baseUrl}/metadata`);
    expect(res.body.resourceType).toBe('CapabilityStatement');
    const rest = res.body.rest[0];
    expect(rest.interaction.map((i: { code: string }) => i.code)).toContain('transaction');
    const report = rest.resource.find((r: { type: string }) => r.type === 'DiagnosticReport');
    expect(report).toMatchObject({ conditionalCreate: true, conditionalUpdate: true, versioning: 'versioned' });
    expect(report.searchParam.map((p: { name: string }) => p.name)).toEqual(
      expect.arrayContaining(['identifier', '_tag', 'subject', 'patient', '_lastUpdated']),
    );
  });

  it("works with Medplum's own client: conditional create, upsert, search, read and a transaction", async () => {
    const medplum = new MedplumClient({
      baseUrl: store.baseUrl.replace(/fhir\/R4$/, ''),
      fhirUrlPath: 'fhir/R4',
      fetch: (url: string, init?: RequestInit) => fetch(url, init),
    });
    const patient: Patient = { resourceType: 'Patient', identifier: [{ system: MRN_SYSTEM, value: 'M-1' }] };
    const first = await medplum.createResourceIfNoneExist(patient, `identifier=${MRN_SYSTEM}|M-1`);
    const again = await medplum.createResourceIfNoneExist(patient, `identifier=${MRN_SYSTEM}|M-1`);
    expect(again.id).toBe(first.id);

    const report: DiagnosticReport = {
      resourceType: 'DiagnosticReport',
      status: 'final',
      code: { text: 'MR knee' },
      identifier: [{ system: 'urn:test', value: 'dr-1' }],
      subject: { reference: `Patient/${first.id}` },
    };
    const upserted = await medplum.upsertResource(report, { identifier: 'urn:test|dr-1' });
    const upsertedAgain = await medplum.upsertResource({ ...report, status: 'amended' }, { identifier: 'urn:test|dr-1' });
    expect(upsertedAgain.id).toBe(upserted.id);
    expect(upsertedAgain.meta?.versionId).toBe('2');

    expect(await medplum.searchResources('DiagnosticReport', { patient: `Patient/${first.id}` })).toHaveLength(1);
    expect((await medplum.readResource('DiagnosticReport', upserted.id)).status).toBe('amended');
    const result: Bundle = await medplum.executeBatch({
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [{ resource: { resourceType: 'Patient' }, request: { method: 'POST', url: 'Patient' } }],
    });
    expect(result.entry?.[0]?.response?.status).toBe('201');
  });
});
