import type { Patient } from '@medplum/fhirtypes';
import type { ReportMetadata } from '../avara/schemas.ts';
import { SyncError } from '../errors.ts';
import type { FhirClient } from '../fhir/fhir-client.ts';
import { comparePatientDemographics } from './mapping/compare-patient-demographics.ts';
import type { PatientResolution } from './mapping/delivery-input.ts';
import { identifierSearchToken } from './mapping/identifier-query.ts';
import type { PatientKey } from './mapping/patient-key.ts';

export type PatientMode = 'create' | 'match';

/**
 * fhir-mapping.md "Patient: resolve first, then reference". Never guesses a chart: no key,
 * two matches, or a demographic disagreement stop the delivery for a person.
 * Must run while the per-patient lock is held, so the create decision cannot race.
 */
export async function resolvePatient(
  fhir: FhirClient,
  key: PatientKey | undefined,
  demographics: Pick<ReportMetadata, 'dateOfBirth' | 'sex'>,
  mode: PatientMode,
): Promise<PatientResolution> {
  if (!key) {
    throw SyncError.permanent('patient_unidentified', 'the study has neither an MRN nor an externalPatientId');
  }
  // Escaped: an MRN containing `,` would otherwise turn the search into an OR of two patients.
  const found = await fhir.search<Patient>('Patient', { identifier: identifierSearchToken(key.system, key.value), _count: '2' });
  if (found.length > 1) {
    throw SyncError.permanent('patient_ambiguous', `more than one EHR Patient has the ${key.type} identifier (${found.map((p) => `Patient/${p.id}`).join(', ')})`);
  }
  const existing = found[0];
  if (existing) {
    const comparison = comparePatientDemographics(existing, demographics);
    if (!comparison.ok) {
      throw SyncError.permanent('patient_mismatch', `EHR Patient/${existing.id} matches the ${key.type} identifier but its ${comparison.field} differs from Avara's`);
    }
    return { kind: 'existing', reference: `Patient/${existing.id}` };
  }
  if (mode === 'match') {
    // The EHR may register the patient a little later; MAX_ATTEMPTS bounds the wait.
    throw SyncError.retryable('patient_not_found', `no EHR Patient has the ${key.type} identifier yet (PATIENT_MODE=match)`);
  }
  return { kind: 'create', identifierSystem: key.system, identifierValue: key.value };
}
