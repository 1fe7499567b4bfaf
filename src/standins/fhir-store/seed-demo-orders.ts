import type { Bundle, ImagingStudy, Patient, ServiceRequest } from '@medplum/fhirtypes';
import { generatePatient } from '../avara-sandbox/generate-patient.ts';
import { PROCEDURES } from '../avara-sandbox/procedure-catalog.ts';
import { createSeededRandom } from '../avara-sandbox/seeded-random.ts';

export interface DemoOrder {
  patientId: string;
  serviceRequestId: string;
  imagingStudyId: string;
  initials: string;
}

const PRIORITIES = ['routine', 'routine', 'urgent', 'stat'] as const;

/**
 * Writes `count` imaging orders into a FHIR store as an EHR would (Patient, ServiceRequest,
 * registered ImagingStudy with its DICOM UID, basedOn the order): the demo's EHR side.
 */
export async function seedDemoOrders(fhirBaseUrl: string, count: number, mrnSystem: string, seed = 20261126): Promise<DemoOrder[]> {
  const random = createSeededRandom(seed);
  const entries = Array.from({ length: count }, (_, n) => {
    const person = generatePatient(random, new Date());
    const procedure = random.pick(PROCEDURES);
    const urn = (kind: number) => `urn:uuid:00000000-0000-4000-${8 + kind}000-${String(n).padStart(12, '0')}`;
    const patient: Patient = {
      resourceType: 'Patient',
      identifier: [{ system: mrnSystem, value: person.metadata.mrn! }],
      name: [{ text: person.metadata.patientName }],
      gender: person.metadata.sex === 'other' ? 'other' : (person.metadata.sex as 'male' | 'female'),
      birthDate: person.metadata.dateOfBirth,
    };
    const order: ServiceRequest = {
      resourceType: 'ServiceRequest', status: 'active', intent: 'order', priority: random.pick(PRIORITIES),
      identifier: [{ type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'ACSN' }] }, value: `ACC${random.digits(7)}` }],
      code: { text: procedure.procedure }, subject: { reference: urn(0) },
      requester: { display: person.metadata.referringPhysicianName }, reasonCode: [{ text: random.pick(procedure.indications) }],
    };
    const study: ImagingStudy = {
      resourceType: 'ImagingStudy', status: 'registered', subject: { reference: urn(0) }, basedOn: [{ reference: urn(1) }],
      identifier: [{ system: 'urn:dicom:uid', value: `urn:oid:2.25.${random.digits(30).replace(/^0+/, '1')}` }],
      modality: [{ system: 'http://dicom.nema.org/resources/ontology/DCM', code: procedure.modality }],
      description: procedure.description, started: new Date().toISOString(),
    };
    return { initials: initialsOf(person.metadata.patientName ?? ''), resources: [patient, order, study].map((resource, kind) => ({ fullUrl: urn(kind), resource, request: { method: 'POST', url: resource.resourceType } })) };
  });
  const response = await fetch(fhirBaseUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/fhir+json' },
    body: JSON.stringify({ resourceType: 'Bundle', type: 'transaction', entry: entries.flatMap((e) => e.resources) }),
  });
  if (!response.ok) throw new Error(`seeding demo orders: the FHIR store answered ${response.status}`);
  const ids = ((await response.json()) as Bundle).entry!.map((e) => e.response!.location!.split('/')[1]!);
  return entries.map((e, n) => ({ patientId: ids[n * 3]!, serviceRequestId: ids[n * 3 + 1]!, imagingStudyId: ids[n * 3 + 2]!, initials: e.initials }));
}

function initialsOf(name: string): string {
  const parts = name.includes(',') ? name.split(',').reverse() : name.split(/\s+/);
  return parts.map((p) => p.trim()[0]?.toUpperCase() ?? '').filter(Boolean).join('.') + '.';
}
