import type { ReportMetadata, Study } from '../../avara/schemas.ts';
import { currentMetadata } from './current-metadata.ts';
import { identifierSystems, type IdentifierSystemOptions } from './identifier-systems.ts';

export interface PatientKey {
  system: string;
  value: string;
  type: 'MR' | 'PI';
}

/**
 * The identifier the patient is resolved by (fhir-mapping.md "Patient", step 1): the MRN when
 * present (current metadata, else the latest snapshot), else the integrator's `externalPatientId`.
 * `undefined` means the delivery must stop as `patient_unidentified`.
 */
export function patientKey(
  study: Study,
  latestSnapshot: ReportMetadata | undefined,
  options: IdentifierSystemOptions,
): PatientKey | undefined {
  const systems = identifierSystems(options);
  const mrn = currentMetadata(study, latestSnapshot).mrn;
  if (mrn !== undefined) return { system: systems.mrn, value: mrn, type: 'MR' };
  const externalId = externalPatientId(study);
  if (externalId !== undefined) return { system: systems.externalPatientId, value: externalId, type: 'PI' };
  return undefined;
}

export function externalPatientId(study: Study): string | undefined {
  const value = study.externalPatientId?.trim();
  return value ? value : undefined;
}
