import type { Resource } from '@medplum/fhirtypes';
import { priorReport } from '../fixtures/order-fixtures.ts';

/** Posts resources as one transaction (each a create) and answers their ids in the same order. */
export async function seedFhirResources(fhirBaseUrl: string, resources: Resource[]): Promise<string[]> {
  const response = await fetch(fhirBaseUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/fhir+json' },
    body: JSON.stringify({
      resourceType: 'Bundle', type: 'transaction',
      entry: resources.map((resource, i) => ({ fullUrl: `urn:uuid:00000000-0000-4000-b000-${String(i).padStart(12, '0')}`, resource, request: { method: 'POST', url: resource.resourceType } })),
    }),
  });
  if (!response.ok) throw new Error(`seeding answered ${response.status}`);
  const bundle = (await response.json()) as { entry: { response: { location: string } }[] };
  return bundle.entry.map((e) => e.response.location.split('/')[1]!);
}

function textNote(patientId: string, date: string, title: string, text: string, extra: Record<string, unknown> = {}): Resource {
  return {
    resourceType: 'DocumentReference', status: 'current', date, subject: { reference: `Patient/${patientId}` },
    type: { coding: [{ system: 'http://loinc.org', code: '11506-3', display: 'Progress note' }] },
    content: [{ attachment: { contentType: 'text/plain; charset=utf-8', title, data: Buffer.from(text).toString('base64') } }],
    ...extra,
  } as Resource;
}

function measure(patientId: string, code: string, value: number, unit: string, at: string): Resource {
  return {
    resourceType: 'Observation', status: 'final', subject: { reference: `Patient/${patientId}` }, effectiveDateTime: at,
    category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs' }] }],
    code: { coding: [{ system: 'http://loinc.org', code }] },
    valueQuantity: { value, unit, system: 'http://unitsofmeasure.org', code: unit },
  } as Resource;
}

/**
 * A chart as a clinic would have it around an order: two earlier radiology reports (one with its
 * ImagingStudy), a lab report, two clinical notes plus a superseded one and a delivered radiology
 * report document, and height/weight measured twice.
 */
export async function seedPatientChart(fhirBaseUrl: string, patientId: string): Promise<void> {
  const subject = { subject: { reference: `Patient/${patientId}` } };
  const [priorStudyId] = await seedFhirResources(fhirBaseUrl, [{
    resourceType: 'ImagingStudy', status: 'available', ...subject, started: '2024-02-03T08:00:00Z',
    modality: [{ system: 'http://dicom.nema.org/resources/ontology/DCM', code: 'CR' }], description: 'Chest X-ray PA',
  } as Resource]);
  await seedFhirResources(fhirBaseUrl, [
    { ...priorReport('x', '2024-02-03T08:00:00Z', 'IMPRESSION: No acute cardiopulmonary process.'), id: undefined, ...subject, imagingStudy: [{ reference: `ImagingStudy/${priorStudyId}` }] } as Resource,
    { ...priorReport('x', '2021-07-14T10:00:00Z', 'IMPRESSION: Small left apical nodule, follow-up advised.'), id: undefined, ...subject } as Resource,
    { ...priorReport('x', '2025-01-01T10:00:00Z', 'Hb 13.1 g/dL'), id: undefined, ...subject, category: [{ coding: [{ code: 'LAB' }] }] } as Resource,
    textNote(patientId, '2026-11-02T14:00:00Z', 'Pulmonology consult', 'Chronic cough 8 weeks, 30 pack-years, weight loss 4 kg.'),
    textNote(patientId, '2026-10-20T09:00:00Z', 'GP visit', 'Cough since September. Referred to pulmonology.'),
    textNote(patientId, '2019-01-01T09:00:00Z', 'Old visit', 'Superseded note.', { status: 'superseded' }),
    textNote(patientId, '2026-11-05T09:00:00Z', 'Report text', 'A delivered radiology report.', { type: { coding: [{ system: 'http://loinc.org', code: '18748-4' }] } }),
    measure(patientId, '8302-2', 176, 'cm', '2025-05-01T10:00:00Z'),
    measure(patientId, '29463-7', 82.4, 'kg', '2025-05-01T10:00:00Z'),
    measure(patientId, '29463-7', 79.6, 'kg', '2026-11-02T14:00:00Z'),
  ]);
}
