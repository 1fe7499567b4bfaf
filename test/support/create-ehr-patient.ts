import type { Patient } from '@medplum/fhirtypes';
import { expect } from 'vitest';

/** A Patient the EHR already has before any delivery: created over FHIR REST, answered 201. */
export async function createEhrPatient(env: { fhir: { baseUrl: string } }, patient: Omit<Patient, 'resourceType'>): Promise<Patient> {
  const response = await fetch(`${env.fhir.baseUrl}/Patient`, {
    method: 'POST',
    headers: { 'content-type': 'application/fhir+json' },
    body: JSON.stringify({ resourceType: 'Patient', ...patient }),
  });
  expect(response.status).toBe(201);
  return (await response.json()) as Patient;
}
