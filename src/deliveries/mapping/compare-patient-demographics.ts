import type { Patient } from '@medplum/fhirtypes';
import type { ReportMetadata } from '../../avara/schemas.ts';

export type DemographicsComparison = { ok: true } | { ok: false; field: 'birthDate' | 'gender' };

/**
 * Does the EHR's Patient agree with Avara's demographics (fhir-mapping.md "Patient", step 2)?
 * Each field is compared only when both sides have it; Avara `other` matches FHIR `other` or
 * `unknown`. Only the field name is returned: the values are PHI and must not reach the audit.
 */
export function comparePatientDemographics(
  fhirPatient: Pick<Patient, 'birthDate' | 'gender'>,
  avara: Pick<ReportMetadata, 'dateOfBirth' | 'sex'>,
): DemographicsComparison {
  const avaraBirthDate = avara.dateOfBirth?.trim();
  if (fhirPatient.birthDate && avaraBirthDate && fhirPatient.birthDate !== avaraBirthDate) {
    return { ok: false, field: 'birthDate' };
  }
  const avaraSex = avara.sex?.trim().toLowerCase();
  if (fhirPatient.gender && avaraSex && !gendersMatch(avaraSex, fhirPatient.gender)) {
    return { ok: false, field: 'gender' };
  }
  return { ok: true };
}

function gendersMatch(avaraSex: string, fhirGender: string): boolean {
  if (avaraSex === 'other') return fhirGender === 'other' || fhirGender === 'unknown';
  return avaraSex === fhirGender;
}
