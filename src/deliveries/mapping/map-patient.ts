import type { Identifier, Patient } from '@medplum/fhirtypes';
import type { ReportMetadata, Study } from '../../avara/schemas.ts';
import { SyncError } from '../../errors.ts';
import { identifierType, US_CORE_PATIENT } from './code-systems.ts';
import { externalPatientId } from './patient-key.ts';
import { identifierSystems, type IdentifierSystemOptions } from './identifier-systems.ts';
import { splitPatientName } from './split-patient-name.ts';

/**
 * The Patient we create when the EHR has none (fhir-mapping.md "Patient we create"): identifiers,
 * name, gender, birthDate and nothing else; height, weight and age are not patient facts here.
 * `metadata` is the current metadata (study first, latest snapshot as fallback).
 */
export function mapPatient(study: Study, metadata: ReportMetadata, options: IdentifierSystemOptions): Patient {
  const name = metadata.patientName === undefined ? undefined : splitPatientName(metadata.patientName);
  if (!name) {
    // A nameless chart fails US Core (us-core-6) and cannot be told apart by a person; the same
    // study data fails again, so a person fixes the name in Avara or registers the patient.
    throw SyncError.permanent('patient_name_missing', `study ${study.studyId} has no patient name; no Patient is created without one`);
  }
  return {
    resourceType: 'Patient',
    meta: { profile: [US_CORE_PATIENT] },
    identifier: patientIdentifiers(study, metadata, options),
    name: [name],
    gender: patientGender(metadata.sex),
    ...(metadata.dateOfBirth ? { birthDate: metadata.dateOfBirth } : {}),
  };
}

export function patientIdentifiers(study: Study, metadata: ReportMetadata, options: IdentifierSystemOptions): Identifier[] {
  const systems = identifierSystems(options);
  const identifiers: Identifier[] = [];
  if (metadata.mrn) identifiers.push({ type: identifierType('MR'), system: systems.mrn, value: metadata.mrn });
  const externalId = externalPatientId(study);
  if (externalId) identifiers.push({ type: identifierType('PI'), system: systems.externalPatientId, value: externalId });
  return identifiers;
}

// Avara's Sex enum is open (avara-api.md §1.6): an unknown value is not guessed at.
function patientGender(sex: string | undefined): NonNullable<Patient['gender']> {
  const value = sex?.trim().toLowerCase();
  return value === 'male' || value === 'female' || value === 'other' ? value : 'unknown';
}
