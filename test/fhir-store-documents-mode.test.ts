import type { CapabilityStatement, CapabilityStatementRestResource, DocumentReference, Encounter, OperationOutcome, Practitioner } from '@medplum/fhirtypes';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startFhirServer, type EmbeddedFhirServer } from '../src/standins/fhir-store/start-fhir-server.ts';
import { MRN_SYSTEM, SID, deliveryBundle } from './support/fhir-store-fixtures.ts';

const NPI = 'http://hl7.org/fhir/sid/us-npi';
const REPORT_ID = `${SID}/report-id`;

function documentFor(patientId: string, reportId: string): DocumentReference {
  return {
    resourceType: 'DocumentReference',
    status: 'current',
    identifier: [{ system: REPORT_ID, value: reportId }],
    subject: { reference: `Patient/${patientId}` },
    content: [{ attachment: { contentType: 'text/plain', data: Buffer.from('No acute findings.').toString('base64') } }],
  };
}

async function send(url: string, method: string, body?: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(url, { method, headers: { 'content-type': 'application/fhir+json', ...headers }, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
}

function diagnostics(body: OperationOutcome): string | undefined {
  expect(body.resourceType).toBe('OperationOutcome');
  return body.issue[0]?.diagnostics;
}

describe('embedded FHIR store, ehr: documents (like Epic / Oracle Health)', () => {
  let store: EmbeddedFhirServer;
  beforeAll(async () => {
    store = await startFhirServer({ port: 0, ehr: 'documents' });
    await store.seed({ resourceType: 'Patient', id: 'p1', identifier: [{ system: MRN_SYSTEM, value: 'MRN-1' }] });
    await store.seed<Practitioner>({ resourceType: 'Practitioner', id: 'dr1', identifier: [{ system: NPI, value: '1234567893' }] });
    await store.seed<Encounter>({ resourceType: 'Encounter', id: 'e1', status: 'in-progress', class: { code: 'AMB' }, subject: { reference: 'Patient/p1' } });
  });
  afterAll(() => store.stop());

  it('refuses transaction and batch Bundles with 405 and writes nothing', async () => {
    for (const type of ['transaction', 'batch'] as const) {
      const res = await send(store.baseUrl, 'POST', { ...deliveryBundle({ mrn: 'MRN-9', studyUid: '1.2.3', studyId: 'st_9', reportId: 'rep_9' }), type });
      expect(res.status).toBe(405);
      expect(diagnostics(res.body)).toBe('transaction and batch Bundles are not supported: create each resource with POST [type]');
    }
    expect(await store.repository.searchResources({ resourceType: 'DocumentReference' })).toHaveLength(0);
  });

  it('refuses conditional create, update, patch and delete with 400', async () => {
    const query = `identifier=${encodeURIComponent(`${REPORT_ID}|rep_c`)}`;
    const attempts = [
      send(`${store.baseUrl}/DocumentReference`, 'POST', documentFor('p1', 'rep_c'), { 'if-none-exist': query }),
      send(`${store.baseUrl}/DocumentReference?${query}`, 'PUT', documentFor('p1', 'rep_c')),
      send(`${store.baseUrl}/DocumentReference?${query}`, 'PATCH', [{ op: 'add', path: '/description', value: 'x' }], { 'content-type': 'application/json-patch+json' }),
      send(`${store.baseUrl}/DocumentReference?${query}`, 'DELETE'),
    ];
    for (const res of await Promise.all(attempts)) {
      expect(res.status).toBe(400);
      expect(res.body.issue[0].code).toBe('not-supported');
      expect(diagnostics(res.body)).toMatch(/^conditional writes are not supported/);
    }
    expect(await store.repository.searchResources({ resourceType: 'DocumentReference' })).toHaveLength(0);
  });

  it('answers 403 to a create or update of Patient, Practitioner, ImagingStudy and DiagnosticReport', async () => {
    const bodies = {
      Patient: { resourceType: 'Patient' },
      Practitioner: { resourceType: 'Practitioner' },
      ImagingStudy: { resourceType: 'ImagingStudy', status: 'available', subject: { reference: 'Patient/p1' } },
      DiagnosticReport: { resourceType: 'DiagnosticReport', status: 'final', code: { text: 'CT' } },
    };
    for (const [type, body] of Object.entries(bodies)) {
      for (const [method, url] of [['POST', type], ['PUT', `${type}/x1`]] as const) {
        const res = await send(`${store.baseUrl}/${url}`, method, { ...body, ...(method === 'PUT' ? { id: 'x1' } : {}) });
        expect(res.status, `${method} ${url}`).toBe(403);
        expect(diagnostics(res.body)).toBe(`${type} is read-only through this API`);
      }
    }
    expect((await send(`${store.baseUrl}/Patient/p1`, 'PUT', { resourceType: 'Patient', id: 'p1' })).status).toBe(403);
    expect((await send(`${store.baseUrl}/Patient/p1`, 'GET')).body.identifier[0].value).toBe('MRN-1');
  });

  it('takes a plain DocumentReference create and finds it by patient + identifier', async () => {
    const created = await send(`${store.baseUrl}/DocumentReference`, 'POST', documentFor('p1', 'rep_1'));
    expect(created.status).toBe(201);
    expect(created.headers.get('location')).toBe(`${store.baseUrl}/DocumentReference/${created.body.id}/_history/1`);
    await store.seed(documentFor('p1', 'rep_other'));

    const found = await send(`${store.baseUrl}/DocumentReference?patient=p1&identifier=${encodeURIComponent(`${REPORT_ID}|rep_1`)}`, 'GET');
    expect(found.status).toBe(200);
    expect(found.body.entry.map((e: { resource: DocumentReference }) => e.resource.id)).toEqual([created.body.id]);
    const otherPatient = await send(`${store.baseUrl}/DocumentReference?patient=p2&identifier=${encodeURIComponent(`${REPORT_ID}|rep_1`)}`, 'GET');
    expect(otherPatient.body.entry ?? []).toEqual([]);
  });

  it('serves seeded resources to reads and searches, ids kept', async () => {
    const practitioners = await send(`${store.baseUrl}/Practitioner?identifier=${encodeURIComponent(`${NPI}|1234567893`)}`, 'GET');
    expect(practitioners.body.entry.map((e: { resource: Practitioner }) => e.resource.id)).toEqual(['dr1']);
    const encounters = await send(`${store.baseUrl}/Encounter?patient=p1`, 'GET');
    expect(encounters.body.entry.map((e: { resource: Encounter }) => e.resource.id)).toEqual(['e1']);
    const patients = await send(`${store.baseUrl}/Patient?identifier=${encodeURIComponent(`${MRN_SYSTEM}|MRN-1`)}`, 'GET');
    expect(patients.body.entry.map((e: { resource: { id: string } }) => e.resource.id)).toEqual(['p1']);
  });

  it('states in /metadata what it refuses: no transaction or batch, read-only types, no conditional writes', async () => {
    const { body } = await send(`${store.baseUrl}/metadata`, 'GET');
    const rest = (body as CapabilityStatement).rest![0]!;
    expect(rest.interaction).toBeUndefined();
    const byType = new Map<string, CapabilityStatementRestResource>(rest.resource!.map((r) => [r.type, r]));
    const codes = (type: string) => byType.get(type)!.interaction!.map((i) => i.code);
    for (const type of ['Patient', 'Practitioner', 'ImagingStudy', 'DiagnosticReport']) expect(codes(type)).toEqual(['read', 'vread', 'search-type']);
    expect(codes('DocumentReference')).toContain('create');
    expect(byType.get('DocumentReference')).toMatchObject({ conditionalCreate: false, conditionalUpdate: false, conditionalDelete: 'not-supported' });
    expect(byType.get('DocumentReference')!.searchParam!.map((p) => p.name)).toEqual(expect.arrayContaining(['identifier', 'patient']));
  });
});

describe('embedded FHIR store, default ehr', () => {
  it('still takes transactions and says so in /metadata', async () => {
    const store = await startFhirServer({ port: 0 });
    try {
      const res = await send(store.baseUrl, 'POST', deliveryBundle({ mrn: 'MRN-2', studyUid: '1.2.4', studyId: 'st_2', reportId: 'rep_2' }));
      expect(res.status).toBe(200);
      const { body } = await send(`${store.baseUrl}/metadata`, 'GET');
      expect(body.rest[0].interaction).toEqual([{ code: 'transaction' }, { code: 'batch' }]);
    } finally {
      await store.stop();
    }
  });
});

describe('avara-fhir-sync fhir-server --ehr', () => {
  let child: ChildProcessWithoutNullStreams | undefined;
  afterEach(() => {
    child?.kill('SIGKILL');
    child = undefined;
  });

  it('--ehr documents starts the documents mode', async () => {
    child = spawn(process.execPath, ['src/cli-entry.mjs', 'fhir-server', '--port', '0', '--ehr', 'documents'], { env: { PATH: process.env.PATH ?? '' } });
    const first = await createInterface({ input: child.stdout })[Symbol.asyncIterator]().next();
    const { baseUrl } = JSON.parse(String(first.value)) as { baseUrl: string };
    expect((await send(`${baseUrl}/Patient`, 'POST', { resourceType: 'Patient' })).status).toBe(403);
    expect((await send(`${baseUrl}/Patient`, 'GET')).status).toBe(200);
  });

  it('refuses an unknown --ehr', async () => {
    child = spawn(process.execPath, ['src/cli-entry.mjs', 'fhir-server', '--port', '0', '--ehr', 'epic'], { env: { PATH: process.env.PATH ?? '' } });
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += String(chunk)));
    const code = await new Promise<number | null>((resolve) => child!.once('exit', resolve));
    expect(code).not.toBe(0);
    expect(stderr).toContain('must be transactions or documents');
  });
});
