import type { Bundle, BundleEntry, DiagnosticReport, DocumentReference, ImagingStudy, Patient } from '@medplum/fhirtypes';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { EmbeddedFhirServer } from '../src/standins/fhir-store/start-fhir-server.ts';
import { startFhirServer } from '../src/standins/fhir-store/start-fhir-server.ts';
import { MRN_SYSTEM, SID, deliveryBundle, getJson, newUrn, postJson, putJson, transaction } from './support/fhir-store-fixtures.ts';

const keys = { mrn: 'MRN-1', studyUid: '1.2.840.1', studyId: 'stu_1', reportId: 'rep_1' };

describe('embedded FHIR store: transaction and batch Bundles', () => {
  let store: EmbeddedFhirServer;
  beforeEach(async () => { store = await startFhirServer({ port: 0 }); });
  afterEach(() => store.stop());

  async function count(resourceType: string): Promise<number> {
    return (await store.repository.searchResources({ resourceType: resourceType as 'Patient' })).length;
  }

  it('creates each resource once, then updates in place when the same delivery is posted again', async () => {
    const first = await postJson(store.baseUrl, deliveryBundle(keys));
    expect(first.status).toBe(200);
    expect(first.body.entry.map((e: BundleEntry) => e.response?.status)).toEqual(['201', '201', '201', '201']);

    const second = await postJson(store.baseUrl, deliveryBundle({ ...keys, conclusion: 'Small nodule.' }));
    expect(second.status).toBe(200);
    expect(second.body.entry.map((e: BundleEntry) => e.response?.status)).toEqual(['200', '200', '200', '200']);
    for (const type of ['Patient', 'ImagingStudy', 'DocumentReference', 'DiagnosticReport']) expect(await count(type)).toBe(1);

    const ids = first.body.entry.map((e: BundleEntry) => e.resource?.id);
    expect(second.body.entry.map((e: BundleEntry) => e.resource?.id)).toEqual(ids);
    const [patientId, studyId, documentId, reportId] = ids;
    expect(second.body.entry.map((e: BundleEntry) => e.response?.location)).toEqual([
      `Patient/${patientId}/_history/1`,
      `ImagingStudy/${studyId}/_history/1`,
      `DocumentReference/${documentId}/_history/2`,
      `DiagnosticReport/${reportId}/_history/2`,
    ]);
    expect(second.body.entry[3].response.etag).toBe('W/"2"');

    const report = await store.repository.readResource<DiagnosticReport>('DiagnosticReport', reportId);
    expect(report.conclusion).toBe('Small nodule.');
    expect(report.subject?.reference).toBe(`Patient/${patientId}`);
    expect(report.imagingStudy?.[0]?.reference).toBe(`ImagingStudy/${studyId}`);
    const study = await store.repository.readResource<ImagingStudy>('ImagingStudy', studyId);
    expect(study.subject.reference).toBe(`Patient/${patientId}`);
    const document = await store.repository.readResource<DocumentReference>('DocumentReference', documentId);
    expect(document.context?.related?.map((r) => r.reference)).toEqual([`DiagnosticReport/${reportId}`, `ImagingStudy/${studyId}`]);
  });

  it('accepts a delivery with more than eight conditional entries (Medplum alone refuses those)', async () => {
    const bundle = deliveryBundle(keys);
    for (let i = 0; i < 8; i++) {
      bundle.entry?.push({
        fullUrl: newUrn(),
        resource: { resourceType: 'Practitioner', identifier: [{ system: 'urn:user', value: `usr_${i}` }] },
        request: { method: 'POST', url: 'Practitioner', ifNoneExist: `identifier=urn:user|usr_${i}` },
      });
    }
    expect((await postJson(store.baseUrl, bundle)).status).toBe(200);
    expect(await count('Practitioner')).toBe(8);
  });

  it('creates each resource once when the same delivery is posted five times at once', async () => {
    const answers = await Promise.all(Array.from({ length: 5 }, () => postJson(store.baseUrl, deliveryBundle(keys))));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200, 200]);
    for (const type of ['Patient', 'ImagingStudy', 'DocumentReference', 'DiagnosticReport']) expect(await count(type)).toBe(1);
  });

  it("stores inline PDFs larger than Medplum's 1 MiB string limit", async () => {
    const bundle = deliveryBundle(keys);
    const pdf = Buffer.alloc(3 * 1024 * 1024, 0x25).toString('base64');
    (bundle.entry?.[3]?.resource as DiagnosticReport).presentedForm = [{ contentType: 'application/pdf', data: pdf }];
    expect((await postJson(store.baseUrl, bundle)).status).toBe(200);
    const [report] = await store.repository.searchResources<DiagnosticReport>({ resourceType: 'DiagnosticReport' });
    expect(report?.presentedForm?.[0]?.data).toHaveLength(pdf.length);
  });

  it('commits nothing when one entry of the transaction is invalid', async () => {
    await postJson(store.baseUrl, deliveryBundle(keys));
    const [patientEntry, studyEntry, documentEntry, reportEntry] = deliveryBundle({ ...keys, mrn: 'MRN-2', conclusion: 'changed' }).entry as BundleEntry[];
    const withoutCode = { ...(reportEntry?.resource as DiagnosticReport), code: undefined } as unknown as DiagnosticReport;
    const invalid: BundleEntry = { ...reportEntry, resource: withoutCode };
    // Medplum applies creates, then updates in Bundle order: the new Patient and the update of the
    // rep_1 document are written before the invalid report update fails, and must be undone.
    const res = await postJson(store.baseUrl, transaction([patientEntry!, studyEntry!, documentEntry!, invalid]));

    expect(res.status).toBe(400);
    expect(res.body.resourceType).toBe('OperationOutcome');
    expect(await count('Patient')).toBe(1);
    expect(await count('DiagnosticReport')).toBe(1);
    const [document] = await store.repository.searchResources<DocumentReference>({
      resourceType: 'DocumentReference',
      filters: [{ code: 'identifier', operator: 'eq' as never, value: 'rep_1' }],
    });
    expect(document?.meta?.versionId).toBe('1');
    const [report] = await store.repository.searchResources<DiagnosticReport>({ resourceType: 'DiagnosticReport' });
    expect(report?.meta?.versionId).toBe('1');
    expect(await store.repository.readHistory('DocumentReference', document?.id ?? '')).toMatchObject({ entry: [{}] });
    expect(Buffer.from(document?.content[0]?.attachment.data ?? '', 'base64').toString()).toBe('No acute findings.');
  });

  it('answers 412 to a conditional create or update that matches two resources', async () => {
    for (let i = 0; i < 2; i++) {
      await store.repository.createResource<Patient>({ resourceType: 'Patient', identifier: [{ system: MRN_SYSTEM, value: 'TWIN' }] });
    }
    const patient = { resourceType: 'Patient', identifier: [{ system: MRN_SYSTEM, value: 'TWIN' }] };
    const create = await postJson(`${store.baseUrl}/Patient`, patient, { 'If-None-Exist': `identifier=${MRN_SYSTEM}|TWIN` });
    expect(create.status).toBe(412);
    expect((await putJson(`${store.baseUrl}/Patient?identifier=${MRN_SYSTEM}|TWIN`, patient)).status).toBe(412);

    const inTransaction = await postJson(
      store.baseUrl,
      transaction([
        { resource: { resourceType: 'Patient' }, request: { method: 'POST', url: 'Patient' } },
        { resource: patient as Patient, request: { method: 'POST', url: 'Patient', ifNoneExist: `identifier=${MRN_SYSTEM}|TWIN` } },
      ]),
    );
    expect(inTransaction.status).toBe(412);
    expect(await count('Patient')).toBe(2);
  });

  it('applies batch entries independently and reports each outcome', async () => {
    const batch: Bundle = {
      resourceType: 'Bundle',
      type: 'batch',
      entry: [
        { resource: { resourceType: 'Patient' }, request: { method: 'POST', url: 'Patient' } },
        { resource: { resourceType: 'DiagnosticReport' } as DiagnosticReport, request: { method: 'POST', url: 'DiagnosticReport' } },
      ],
    };
    const res = await postJson(store.baseUrl, batch);
    expect(res.status).toBe(200);
    expect(res.body.type).toBe('batch-response');
    expect(res.body.entry.map((e: BundleEntry) => e.response?.status)).toEqual(['201', '400']);
    expect(await count('Patient')).toBe(1);
  });

  it('answers statuses and versioned locations without the resources when the client prefers return=minimal', async () => {
    const res = await postJson(store.baseUrl, deliveryBundle(keys), { Prefer: 'return=minimal' });
    expect(res.status).toBe(200);
    expect(res.body.entry.map((e: BundleEntry) => e.response?.status)).toEqual(['201', '201', '201', '201']);
    expect(res.body.entry.every((e: BundleEntry) => /^[A-Za-z]+\/[^/]+\/_history\/1$/.test(e.response?.location ?? ''))).toBe(true);
    expect(res.body.entry.some((e: BundleEntry) => e.resource !== undefined)).toBe(false);
    expect(await count('DiagnosticReport')).toBe(1);
  });

  it('returns only the asked-for elements (plus id and meta, tagged SUBSETTED) for a search with _elements', async () => {
    await postJson(store.baseUrl, deliveryBundle(keys));
    const res = await getJson(`${store.baseUrl}/DiagnosticReport?identifier=${encodeURIComponent(`${SID}/study-id|stu_1`)}&_elements=identifier`);
    expect(res.status).toBe(200);
    const report = res.body.entry[0].resource as DiagnosticReport;
    expect(Object.keys(report).sort()).toEqual(['id', 'identifier', 'meta', 'resourceType']);
    expect(report.meta?.versionId).toBe('1');
    expect(report.meta?.tag).toContainEqual({ system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationValue', code: 'SUBSETTED' });
    const stored = await store.repository.readResource<DiagnosticReport>('DiagnosticReport', report.id!);
    expect(stored.status).toBe('final'); // the stored resource keeps everything
  });
});
