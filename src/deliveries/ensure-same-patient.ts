import type { DiagnosticReport } from '@medplum/fhirtypes';
import { SyncError } from '../errors.ts';
import type { FhirClient } from '../fhir/fhir-client.ts';
import type { PatientResolution } from './mapping/delivery-input.ts';

/**
 * fhir-mapping.md "Lifecycle cases": once a study's documents are on a chart they are never
 * re-pointed. A corrected MRN or external id that now resolves to another Patient (or to none,
 * so one would be created) stops the delivery for a person: the delivered PDF names the first
 * patient, and conditional updates keyed on the study would carry it to the second chart.
 *
 * `recorded` are the references of the study's earlier deliveries (to this target). Deliveries
 * recorded before the patient was kept with them name only their DiagnosticReport: its subject
 * is read from the EHR instead.
 */
export async function ensureSamePatient(fhir: FhirClient, studyId: string, patient: PatientResolution, recorded: Record<string, string>[]): Promise<void> {
  const deliveredTo = await deliveredPatient(fhir, recorded);
  if (deliveredTo === undefined) return;
  const now = patient.kind === 'existing' ? patient.reference : undefined;
  if (now === deliveredTo) return;
  throw SyncError.permanent(
    'patient_changed_after_delivery',
    `study ${studyId} was delivered to ${deliveredTo}, but its patient identifier now resolves to ${now ?? 'no EHR Patient (one would be created)'}; nothing written, documents never re-pointed: move or retract them in the EHR, then retry`,
  );
}

async function deliveredPatient(fhir: FhirClient, recorded: Record<string, string>[]): Promise<string | undefined> {
  const patients = new Set(recorded.flatMap((refs) => (refs.Patient ? [resourceReference(refs.Patient)] : [])));
  if (patients.size > 1) {
    // Cannot happen while this rule holds; if it did, no answer would be safe.
    throw SyncError.permanent('patient_changed_after_delivery', `the study's deliveries are on several charts (${[...patients].join(', ')})`);
  }
  if (patients.size === 1) return [...patients][0];
  const report = recorded.find((refs) => refs.DiagnosticReport)?.DiagnosticReport;
  if (report === undefined) return undefined;
  const id = resourceReference(report).split('/')[1]!;
  const [found] = await fhir.search<DiagnosticReport>('DiagnosticReport', { _id: id });
  // Deleted in the EHR since: nothing of ours is on any chart to be moved.
  return found?.subject?.reference;
}

/** `Patient/1/_history/2` (a recorded outcome) -> `Patient/1`. */
function resourceReference(location: string): string {
  return location.split('/').slice(0, 2).join('/');
}
