import type { Bundle, Resource } from '@medplum/fhirtypes';
import { orderImagingStudy, orderPatient, orderServiceRequest } from '../fixtures/order-fixtures.ts';

export interface SeededOrder {
  n: number;
  patientId: string;
  serviceRequestId: string;
  imagingStudyId: string;
}

/** Writes orders as an EHR would (Patient, ServiceRequest, ImagingStudy), one transaction for all. */
export async function seedFhirOrders(fhirBaseUrl: string, numbers: number[], edit: (n: number, r: { patient: Resource; sr: Resource; is: Resource }) => void = () => {}): Promise<SeededOrder[]> {
  const entries = numbers.flatMap((n) => {
    const refs = { patient: `urn:uuid:00000000-0000-4000-8000-${String(n).padStart(12, '0')}`, sr: `urn:uuid:00000000-0000-4000-9000-${String(n).padStart(12, '0')}`, is: `urn:uuid:00000000-0000-4000-a000-${String(n).padStart(12, '0')}` };
    const resources = {
      patient: orderPatient(n) as Resource,
      sr: orderServiceRequest(n, { patient: refs.patient }) as Resource,
      is: orderImagingStudy(n, { patient: refs.patient, serviceRequest: refs.sr }) as Resource,
    };
    edit(n, resources);
    return (['patient', 'sr', 'is'] as const).map((k) => ({ fullUrl: refs[k], resource: resources[k], request: { method: 'POST', url: resources[k].resourceType } }));
  });
  const response = await fetch(fhirBaseUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/fhir+json' },
    body: JSON.stringify({ resourceType: 'Bundle', type: 'transaction', entry: entries }),
  });
  if (!response.ok) throw new Error(`seeding answered ${response.status}`);
  const ids = ((await response.json()) as Bundle).entry!.map((e) => e.response!.location!.split('/')[1]!);
  return numbers.map((n, i) => ({ n, patientId: ids[i * 3]!, serviceRequestId: ids[i * 3 + 1]!, imagingStudyId: ids[i * 3 + 2]! }));
}

/** Reads, edits and writes back one resource (a new version, as an EHR update would). */
export async function updateFhirResource<T extends Resource>(fhirBaseUrl: string, type: string, id: string, edit: (resource: T) => void): Promise<void> {
  const resource = (await (await fetch(`${fhirBaseUrl}/${type}/${id}`)).json()) as T;
  edit(resource);
  const response = await fetch(`${fhirBaseUrl}/${type}/${id}`, { method: 'PUT', headers: { 'content-type': 'application/fhir+json' }, body: JSON.stringify(resource) });
  if (!response.ok) throw new Error(`update ${type} answered ${response.status}`);
}
